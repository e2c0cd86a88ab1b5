package codec

import (
	"github.com/crescent-db/crescent/internal/keyspace"
	"github.com/crescent-db/crescent/internal/persist/listpack"
	"github.com/crescent-db/crescent/internal/persist/rdb"
)

type zsetCodec struct{ lim Limits }

func (zsetCodec) TypeName() string { return "zset" }

func (zsetCodec) RDBTypes() []byte {
	return []byte{rdb.TypeZSet, rdb.TypeZSet2, rdb.TypeZSetZiplist, rdb.TypeZSetListpack}
}

// Save writes ZSET_LISTPACK (member, score, ... ascending) for a set in
// listpack form, else ZSET_2 from the greatest element to the smallest,
// as Redis does.
func (zsetCodec) Save(e *rdb.Encoder, v any) (byte, error) {
	z := v.(*keyspace.ZSet)
	if z.IsListpack() {
		b := listpack.NewBuilder(make([]byte, 0, 64))
		var sc []byte
		for n := z.First(); n != nil; n = n.Next() {
			b.String([]byte(n.Member))
			sc = appendScore(sc[:0], n.Score)
			b.String(sc)
		}
		e.String(b.Finish())
		return rdb.TypeZSetListpack, nil
	}
	e.Len(uint64(z.Len()))
	for n := z.Last(); n != nil; n = n.Prev() {
		e.String([]byte(n.Member))
		e.Double(n.Score)
	}
	return rdb.TypeZSet2, nil
}

// Load reads every sorted set form, choosing the encoding as Redis 7.0
// does: a loaded listpack stays one unless it has too many entries; a
// loaded skiplist becomes a listpack when it fits both limits.
func (c zsetCodec) Load(d *rdb.Decoder, t byte) (any, error) {
	z := keyspace.NewZSet(false)
	switch t {
	case rdb.TypeZSet, rdb.TypeZSet2:
		n, err := d.Len()
		if err != nil {
			return nil, err
		}
		maxLen := 0
		for ; n > 0; n-- {
			m, err := d.String()
			if err != nil {
				return nil, err
			}
			var sc float64
			if t == rdb.TypeZSet2 {
				sc, err = d.Double()
			} else {
				sc, err = d.StringDouble()
			}
			if err != nil {
				return nil, err
			}
			if sc != sc {
				return nil, d.Corrupt("zset with NaN score")
			}
			if !z.Set(string(m), sc) {
				return nil, d.Corrupt("duplicate zset members")
			}
			maxLen = max(maxLen, len(m))
		}
		if z.Len() <= c.lim.ZSetEntries() && maxLen <= c.lim.ZSetValue() {
			z.SetListpack(true)
		}
	default:
		blob, err := d.String()
		if err != nil {
			return nil, err
		}
		var pairs [][]byte
		if t == rdb.TypeZSetZiplist {
			pairs, err = listpack.ZiplistDecode(blob)
		} else {
			pairs, err = listpack.Decode(blob)
		}
		if err == nil && len(pairs)%2 != 0 {
			err = listpack.ErrCorrupt
		}
		if err != nil {
			return nil, d.Corrupt("zset blob: %v", err)
		}
		small := len(pairs)/2 <= c.lim.ZSetEntries()
		z.SetListpack(small)
		for i := 0; i < len(pairs); i += 2 {
			sc, ok := parseScore(pairs[i+1])
			if !ok {
				return nil, d.Corrupt("bad zset score %q", pairs[i+1])
			}
			if !z.Set(string(pairs[i]), sc) {
				return nil, d.Corrupt("duplicate zset members")
			}
		}
	}
	if z.Len() == 0 {
		return nil, rdb.ErrEmptyKey
	}
	return z, nil
}

// Rewrite returns ZADD commands.
func (zsetCodec) Rewrite(key []byte, v any) [][][]byte {
	z := v.(*keyspace.ZSet)
	items := make([][]byte, 0, 2*z.Len())
	for n := z.First(); n != nil; n = n.Next() {
		items = append(items, appendScore(nil, n.Score), []byte(n.Member))
	}
	return rewriteBatches("ZADD", key, items, 2*batch)
}
