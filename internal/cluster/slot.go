// Package cluster is Redis Cluster for Crescent: the hash slot of a key,
// the cluster configuration (nodes, slot owners, MIGRATING/IMPORTING
// states, epochs) replicated by a raft group among the nodes over the
// cluster bus port, and the routing decision Redis's getNodeByQuery makes
// for every command (MOVED, ASK, CROSSSLOT, TRYAGAIN, CLUSTERDOWN).
//
// See docs/design/cluster.md.
package cluster

import "bytes"

// Slots is the number of hash slots.
const Slots = 16384

// crcTab is the CRC16-CCITT (XMODEM) table Redis uses for key slots.
var crcTab = func() (t [256]uint16) {
	for i := range t {
		c := uint16(i) << 8
		for j := 0; j < 8; j++ {
			if c&0x8000 != 0 {
				c = c<<1 ^ 0x1021
			} else {
				c <<= 1
			}
		}
		t[i] = c
	}
	return t
}()

// crc16 is Redis's crc16 (XMODEM: polynomial 0x1021, initial value 0).
func crc16(b []byte) uint16 {
	var crc uint16
	for _, c := range b {
		crc = crc<<8 ^ crcTab[byte(crc>>8)^c]
	}
	return crc
}

// KeySlot returns the hash slot of key: CRC16 of the key, or of the part
// between the first '{' and the next '}' when that part is not empty.
func KeySlot(key []byte) int {
	if i := bytes.IndexByte(key, '{'); i >= 0 {
		if j := bytes.IndexByte(key[i+1:], '}'); j > 0 { // "{}": the whole key
			return int(crc16(key[i+1:i+1+j]) & (Slots - 1))
		}
	}
	return int(crc16(key) & (Slots - 1))
}
