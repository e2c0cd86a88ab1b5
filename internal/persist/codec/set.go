package codec

import (
	"strconv"

	"github.com/crescent-db/crescent/internal/keyspace"
	"github.com/crescent-db/crescent/internal/persist/listpack"
	"github.com/crescent-db/crescent/internal/persist/rdb"
)

type setCodec struct{ lim Limits }

func (setCodec) TypeName() string { return "set" }

func (setCodec) RDBTypes() []byte { return []byte{rdb.TypeSet, rdb.TypeSetIntset} }

// Save writes SET_INTSET for a set in intset form, else SET.
func (setCodec) Save(e *rdb.Encoder, v any) (byte, error) {
	s := v.(*keyspace.Set)
	if s.IsIntset() {
		e.String(listpack.IntsetBuild(s.Ints(), s.IntsetWidth()))
		return rdb.TypeSetIntset, nil
	}
	e.Len(uint64(s.Len()))
	var buf []byte
	for i := 0; i < s.Len(); i++ {
		buf = s.AppendMember(buf[:0], i)
		e.String(buf)
	}
	return rdb.TypeSet, nil
}

// Load reads SET and SET_INTSET; the set is an intset when Redis's would
// be.
func (c setCodec) Load(d *rdb.Decoder, t byte) (any, error) {
	maxIntset := c.lim.SetIntset()
	if maxIntset > 1<<30 {
		maxIntset = 1 << 30
	}
	s := keyspace.NewSet()
	if t == rdb.TypeSetIntset {
		blob, err := d.String()
		if err != nil {
			return nil, err
		}
		decode := listpack.IntsetDecode
		if d.Shallow {
			decode = listpack.IntsetDecodeShallow
		}
		vals, width, err := decode(blob)
		if err != nil {
			return nil, d.Corrupt("intset: %v", err)
		}
		if d.Shallow && len(vals) <= maxIntset {
			// as Redis without deep validation: kept in its order,
			// unsorted or repeated (SISMEMBER's search then misses some)
			s.LoadInts(vals, width)
			if s.Len() == 0 {
				return nil, rdb.ErrEmptyKey
			}
			return s, nil
		}
		var buf []byte
		for _, x := range vals {
			buf = strconv.AppendInt(buf[:0], x, 10)
			s.Add(buf, maxIntset)
		}
		s.SetIntsetWidth(width)
	} else {
		n, err := d.Len()
		if err != nil {
			return nil, err
		}
		for ; n > 0; n-- {
			m, err := d.String()
			if err != nil {
				return nil, err
			}
			if !s.Add(m, maxIntset) {
				return nil, d.Corrupt("duplicate set members")
			}
		}
	}
	if s.Len() == 0 {
		return nil, rdb.ErrEmptyKey
	}
	return s, nil
}

// Rewrite returns SADD commands.
func (setCodec) Rewrite(key []byte, v any) [][][]byte {
	s := v.(*keyspace.Set)
	items := make([][]byte, s.Len())
	for i := range items {
		items[i] = s.AppendMember(nil, i)
	}
	return rewriteBatches("SADD", key, items, batch)
}
