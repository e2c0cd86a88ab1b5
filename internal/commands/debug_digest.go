package commands

// DEBUG DIGEST and DEBUG DIGEST-VALUE, as Redis 7.0's debug.c
// (computeDatasetDigest, xorObjectDigest): a SHA1-based digest of the
// whole dataset or of single values that is the same on every server
// holding the same data, whatever the encodings, so that a replica, an
// AOF or RDB reload, or another implementation can be checked against
// Redis with one command. Order matters only where the data is ordered
// (lists, streams): unordered collections xor their elements' digests.

import (
	"crypto/sha1"
	"encoding/binary"
	"encoding/hex"
	"math"
	"strconv"

	"github.com/crescent-db/crescent/internal/command"
	"github.com/crescent-db/crescent/internal/keyspace"
	"github.com/crescent-db/crescent/internal/resp"
)

// digest is a 20-byte SHA1-sized accumulator.
type digest [sha1.Size]byte

// xor is Redis's xorDigest: digest ^= SHA1(p).
func (d *digest) xor(p []byte) {
	h := sha1.Sum(p)
	for i := range d {
		d[i] ^= h[i]
	}
}

// mix is Redis's mixDigest: digest = SHA1(digest ^ SHA1(p)), so that the
// order of what is mixed in counts.
func (d *digest) mix(p []byte) {
	d.xor(p)
	*d = sha1.Sum(d[:])
}

// hex is the digest as DEBUG DIGEST prints it.
func (d *digest) hex() string { return hex.EncodeToString(d[:]) }

// Redis's object type numbers (OBJ_STRING...), mixed into each value's
// digest.
const (
	objString = 0
	objList   = 1
	objSet    = 2
	objZSet   = 3
	objHash   = 4
	objStream = 6
)

// objectDigest mixes the value of e (of key) into d as xorObjectDigest.
func objectDigest(d *digest, e keyspace.Entry) {
	var aux [4]byte
	var buf []byte
	typ := func(t uint32) {
		binary.BigEndian.PutUint32(aux[:], t)
		d.mix(aux[:])
	}
	if s, ok := e.Str(); ok {
		typ(objString)
		d.mix(s)
	} else {
		switch v := e.Value().(type) {
		case *keyspace.List:
			typ(objList)
			for i := 0; i < v.Len(); i++ {
				d.mix(v.Index(i))
			}
		case *keyspace.Set:
			typ(objSet)
			for i := 0; i < v.Len(); i++ {
				buf = v.AppendMember(buf[:0], i)
				d.xor(buf)
			}
		case *keyspace.ZSet:
			typ(objZSet)
			for n := v.First(); n != nil; n = n.Next() {
				var ed digest
				ed.mix([]byte(n.Member))
				buf = resp.FormatDouble(buf[:0], n.Score) // "%.17g"
				ed.mix(buf)
				d.xor(ed[:])
			}
		case *keyspace.Hash:
			typ(objHash)
			for i := 0; i < v.Len(); i++ {
				var ed digest
				ed.mix([]byte(v.Field(i)))
				ed.mix(v.Value(i))
				d.xor(ed[:])
			}
		case *keyspace.Stream:
			typ(objStream)
			last := keyspace.StreamID{Ms: math.MaxUint64, Seq: math.MaxUint64}
			v.Range(keyspace.StreamID{}, last, false, func(id keyspace.StreamID, fields [][]byte) bool {
				buf = strconv.AppendUint(buf[:0], id.Ms, 10)
				buf = append(buf, '.')
				buf = strconv.AppendUint(buf, id.Seq, 10)
				d.mix(buf)
				for _, f := range fields {
					d.mix(f)
				}
				return true
			})
		}
	}
	if e.Exp != 0 {
		d.xor([]byte("!!expire!!"))
	}
}

// datasetDigest is computeDatasetDigest: for each non-empty database its
// number is mixed in, then the xor of its keys' digests (key mixed with
// value); logically expired keys not yet reclaimed count, as in Redis.
func datasetDigest(st *keyspace.Store, now int64) digest {
	var final digest
	var aux [4]byte
	for i := 0; i < st.NumDBs(); i++ {
		db := st.DB(i, now)
		first := true
		db.ForEachStored(func(key string, e keyspace.Entry) bool {
			if first {
				binary.BigEndian.PutUint32(aux[:], uint32(i))
				final.mix(aux[:])
				first = false
			}
			var kd digest
			kd.mix([]byte(key))
			objectDigest(&kd, e)
			final.xor(kd[:])
			return true
		})
	}
	return final
}

// debugDigest serves DEBUG DIGEST and DEBUG DIGEST-VALUE key...
// (a missing key's digest is all zeros).
func (h *Handlers) debugDigest(c *command.Ctx, values bool) {
	if !values {
		d := datasetDigest(c.DB.Store(), c.Now())
		c.W.Simple(d.hex())
		return
	}
	c.W.Array(len(c.Args) - 2)
	for _, k := range c.Args[2:] {
		var d digest
		if e, ok := c.DB.PeekStored(k); ok {
			objectDigest(&d, e)
		}
		c.W.Simple(d.hex())
	}
}
