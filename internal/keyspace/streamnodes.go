package keyspace

import (
	"errors"
	"math"
)

// Persistence view of a stream's blocks, which correspond one to one to
// Redis's listpack nodes (see Append).

// BlockInfo returns block i's master ID, master field names (aliasing the
// stream), live entries and entries including deleted ones.
func (s *Stream) BlockInfo(i int) (master StreamID, fields [][]byte, live, count int) {
	b := s.blocks[i]
	return b.master, b.masterFields, int(b.live), int(b.count)
}

// BlockEntries calls fn for every entry of block i, deleted ones
// included, in order, until fn returns false. fv aliases the stream and
// is valid only during the call.
func (s *Stream) BlockEntries(i int, fn func(id StreamID, deleted bool, fv [][]byte) bool) {
	b := s.blocks[i]
	var buf [16][]byte
	for off := 0; off < len(b.data); {
		id, flags, fields, next := b.decode(off, buf[:0])
		if !fn(id, flags&sfDeleted != 0, fields) {
			return
		}
		off = next
	}
}

// SetBlockCountSkew records, for the last block started by LoadBlock, how
// far its node's listpack header count was from its elements (header
// minus elements): a DUMP then writes the count Redis would still have.
func (s *Stream) SetBlockCountSkew(d int) { s.blocks[len(s.blocks)-1].skew = int32(d) }

// BlockCountSkew is block i's SetBlockCountSkew (0: its count is right).
func (s *Stream) BlockCountSkew(i int) int { return int(s.blocks[i].skew) }

// ErrStreamOrder reports loaded stream entries out of ID order.
var ErrStreamOrder = errors.New("stream entries out of order")

// LoadBlock starts a new block with the given master ID and field names
// (kept, not copied), for loading a stream node. Nodes come in the order
// of their master IDs.
func (s *Stream) LoadBlock(master StreamID, fields [][]byte) error {
	if n := len(s.blocks); n > 0 && !s.blocks[n-1].master.Less(master) {
		return ErrStreamOrder
	}
	s.newBlock(master, fields)
	return nil
}

// LoadEntry appends an entry (fv copied), deleted or not, to the last
// block started by LoadBlock. Live entries count in Len; the caller sets
// the stream's IDs and counters. An entry may follow a greater deleted
// one, as in Redis: XSETID can set the last ID below a deleted entry (XADD
// s 9-0 f v, XADD s 18446744073709551615-0 f v, XDEL s
// 18446744073709551615-0, XSETID s 10-0, XADD s 11-0 f v). An entry may
// also be below its block's master ID, as Redis's node deltas are signed:
// XADD puts one there when a stream's last ID is below its entries (a
// corrupt payload that Redis restores), and its DUMP must load again.
func (s *Stream) LoadEntry(id StreamID, fv [][]byte, deleted bool) error {
	b := s.blocks[len(s.blocks)-1]
	if b.count == math.MaxInt32 {
		return ErrStreamOrder
	}
	b.appendEntry(id, fv)
	if deleted {
		b.data[b.lastOff] |= sfDeleted
		b.live--
	} else {
		s.length++
	}
	return nil
}

// Clone implements Cloner: a deep copy of entries, groups, consumers and
// pending entries.
func (s *Stream) Clone() any {
	out := &Stream{length: s.length, LastID: s.LastID, FirstID: s.FirstID,
		MaxDeletedID: s.MaxDeletedID, EntriesAdded: s.EntriesAdded}
	out.blocks = make([]*streamBlock, len(s.blocks))
	for i, b := range s.blocks {
		nb := *b
		nb.data = append([]byte(nil), b.data...)
		nb.masterFields = make([][]byte, len(b.masterFields))
		for j, f := range b.masterFields {
			nb.masterFields[j] = append([]byte(nil), f...)
		}
		out.blocks[i] = &nb
	}
	out.groups = make([]*Group, len(s.groups))
	for i, g := range s.groups {
		ng := &Group{Name: g.Name, LastID: g.LastID, EntriesRead: g.EntriesRead}
		cons := map[*Consumer]*Consumer{}
		if g.consumers != nil {
			ng.consumers = make(map[string]*Consumer, len(g.consumers))
		}
		for name, c := range g.consumers {
			nc := &Consumer{Name: c.Name, SeenTime: c.SeenTime, ActiveTime: c.ActiveTime}
			ng.consumers[name] = nc
			cons[c] = nc
		}
		g.PEL.Ascend(StreamID{}, func(pe *PendingEntry) bool {
			npe := *pe
			if pe.Consumer != nil {
				npe.Consumer = cons[pe.Consumer]
				npe.Consumer.PEL.Insert(&npe)
			}
			ng.PEL.Insert(&npe)
			return true
		})
		out.groups[i] = ng
	}
	return out
}
