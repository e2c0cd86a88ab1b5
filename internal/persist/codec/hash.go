package codec

import (
	"math"

	"github.com/crescent-db/crescent/internal/keyspace"
	"github.com/crescent-db/crescent/internal/persist/listpack"
	"github.com/crescent-db/crescent/internal/persist/rdb"
)

type hashCodec struct{ lim Limits }

func (hashCodec) TypeName() string { return "hash" }

func (hashCodec) RDBTypes() []byte {
	return []byte{rdb.TypeHash, rdb.TypeHashZipmap, rdb.TypeHashZiplist, rdb.TypeHashListpack}
}

// Save writes HASH_LISTPACK for a hash in listpack form, else HASH.
func (hashCodec) Save(e *rdb.Encoder, v any) (byte, error) {
	h := v.(*keyspace.Hash)
	if h.IsListpack() {
		b := listpack.NewBuilder(make([]byte, 0, 64))
		for i := 0; i < h.Len(); i++ {
			b.String([]byte(h.Field(i)))
			b.String(h.Value(i))
		}
		e.String(b.Finish())
		return rdb.TypeHashListpack, nil
	}
	e.Len(uint64(h.Len()))
	for i := 0; i < h.Len(); i++ {
		e.String([]byte(h.Field(i)))
		e.String(h.Value(i))
	}
	return rdb.TypeHash, nil
}

// Load reads every hash form. Like Redis 7.0, a loaded listpack stays a
// listpack unless it has too many entries (long values are kept), while a
// loaded hashtable or zipmap becomes a listpack when it fits both limits.
func (c hashCodec) Load(d *rdb.Decoder, t byte) (any, error) {
	h := keyspace.NewHash()
	lim := keyspace.HashLimits{Entries: c.lim.HashEntries(), Value: c.lim.HashValue()}
	add := func(f, v []byte, lim keyspace.HashLimits) error {
		if !h.Set(f, v, lim) {
			return d.Corrupt("duplicate hash fields")
		}
		return nil
	}
	switch t {
	case rdb.TypeHash:
		n, err := d.Len()
		if err != nil {
			return nil, err
		}
		for ; n > 0; n-- {
			f, err := d.String()
			if err != nil {
				return nil, err
			}
			v, err := d.String()
			if err != nil {
				return nil, err
			}
			if err := add(f, v, lim); err != nil {
				return nil, err
			}
		}
	default:
		blob, err := d.String()
		if err != nil {
			return nil, err
		}
		var pairs [][]byte
		switch t {
		case rdb.TypeHashZipmap:
			pairs, err = listpack.ZipmapDecode(blob)
		case rdb.TypeHashZiplist:
			pairs, err = listpack.ZiplistDecode(blob)
			lim.Value = math.MaxInt
		default:
			pairs, err = listpack.Decode(blob)
			lim.Value = math.MaxInt
		}
		if err == nil && len(pairs)%2 != 0 {
			err = listpack.ErrCorrupt
		}
		if err != nil {
			return nil, d.Corrupt("hash blob: %v", err)
		}
		dups := false
		for i := 0; i < len(pairs); i += 2 {
			if t == rdb.TypeHashListpack && d.Shallow && h.Has(pairs[i]) {
				// kept without deep validation, as Redis 7.0
				h.LoadDuplicate(pairs[i], pairs[i+1], lim)
				dups = true
				continue
			}
			if err := add(pairs[i], pairs[i+1], lim); err != nil {
				return nil, err
			}
		}
		if dups && !h.IsListpack() {
			// Redis converts it to a hashtable and panics on the repeat
			return nil, d.Corrupt("duplicate hash fields")
		}
	}
	if h.Len() == 0 {
		return nil, rdb.ErrEmptyKey
	}
	return h, nil
}

// Rewrite returns HSET commands.
func (hashCodec) Rewrite(key []byte, v any) [][][]byte {
	h := v.(*keyspace.Hash)
	items := make([][]byte, 0, 2*h.Len())
	for i := 0; i < h.Len(); i++ {
		items = append(items, []byte(h.Field(i)), h.Value(i))
	}
	return rewriteBatches("HSET", key, items, 2*batch)
}
