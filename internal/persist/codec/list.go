package codec

import (
	"github.com/crescent-db/crescent/internal/keyspace"
	"github.com/crescent-db/crescent/internal/persist/listpack"
	"github.com/crescent-db/crescent/internal/persist/rdb"
)

// Quicklist node containers.
const (
	containerPlain  = 1
	containerPacked = 2
)

// packedThreshold is the element size from which Redis 7.0 stores an
// element alone in a PLAIN node (1 GB).
const packedThreshold = 1 << 30

// safetyLimit is SIZE_SAFETY_LIMIT: no node grows past 8 KB unless a
// size-based fill allows it.
const safetyLimit = 8192

// optimizationLevel are the node sizes of fills -1 to -5.
var optimizationLevel = [...]int{4096, 8192, 16384, 32768, 65536}

// allowInsert is Redis 7.0's _quicklistNodeAllowInsert: may an element of
// sz bytes join a node of nodeSize bytes holding count elements.
func allowInsert(nodeSize, count, fill, sz int) bool {
	// Redis overestimates what the element adds (SIZE_ESTIMATE_OVERHEAD)
	const overhead = 8
	newSize := nodeSize + sz + overhead
	if fill < 0 {
		if off := -fill - 1; off < len(optimizationLevel) {
			if newSize <= optimizationLevel[off] {
				return true
			}
		}
	}
	if newSize > safetyLimit {
		return false
	}
	return count < fill
}

// clampFill is quicklistSetFill's range.
func clampFill(fill int) int {
	switch {
	case fill > 1<<15-1:
		return 1<<15 - 1
	case fill < -5:
		return -5
	}
	return fill
}

type listCodec struct{ lim Limits }

func (listCodec) TypeName() string { return "list" }

func (listCodec) RDBTypes() []byte {
	return []byte{rdb.TypeList, rdb.TypeListZiplist, rdb.TypeListQuicklist, rdb.TypeListQuicklist2}
}

// nodes splits l into quicklist nodes as RPUSHing its elements one by
// one into an empty list would: it returns each node's element count,
// negative for a PLAIN node.
func (c listCodec) nodes(l *keyspace.List) []int {
	fill := clampFill(c.lim.ListFill())
	var out []int
	size, count := 0, 0 // current node; count 0: none
	for i := 0; i < l.Len(); i++ {
		v := l.Index(i)
		if len(v) >= packedThreshold {
			if count > 0 {
				out = append(out, count)
			}
			out = append(out, -1)
			size, count = 0, 0
			continue
		}
		if count > 0 && allowInsert(size, count, fill, len(v)) {
			size += listpack.StringSize(v)
			count++
			continue
		}
		if count > 0 {
			out = append(out, count)
		}
		size, count = listpack.Empty+listpack.StringSize(v), 1
	}
	if count > 0 {
		out = append(out, count)
	}
	return out
}

// QuicklistStats describes the quicklist Redis 7.0 keeps for l with the
// limits lim (the node layout DUMP and RDB files use): its node count, the
// total bytes of its nodes (a packed node's listpack; a plain node's
// element) and its fill (list-max-listpack-size as the quicklist keeps
// it), for DEBUG OBJECT's ql_* fields.
func QuicklistStats(l *keyspace.List, lim Limits) (nodes, bytes, fill int) {
	c := listCodec{lim: lim}
	i := 0
	for _, n := range c.nodes(l) {
		nodes++
		if n < 0 {
			bytes += len(l.Index(i))
			i++
			continue
		}
		bytes += listpack.Empty
		for end := i + n; i < end; i++ {
			bytes += listpack.StringSize(l.Index(i))
		}
	}
	return nodes, bytes, clampFill(lim.ListFill())
}

// Save writes LIST_QUICKLIST_2.
func (c listCodec) Save(e *rdb.Encoder, v any) (byte, error) {
	l := v.(*keyspace.List)
	nodes := c.nodes(l)
	e.Len(uint64(len(nodes)))
	var b listpack.Builder
	var buf []byte
	i := 0
	for _, n := range nodes {
		if n < 0 {
			e.Len(containerPlain)
			e.String(l.Index(i))
			i++
			continue
		}
		e.Len(containerPacked)
		b.Reset(buf)
		for end := i + n; i < end; i++ {
			b.String(l.Index(i))
		}
		lp := b.Finish()
		e.String(lp)
		buf = lp
	}
	return rdb.TypeListQuicklist2, nil
}

// Load reads every list form.
func (c listCodec) Load(d *rdb.Decoder, t byte) (any, error) {
	l := keyspace.NewList()
	push := func(elems [][]byte) {
		for _, x := range elems {
			l.PushBack(x)
		}
	}
	switch t {
	case rdb.TypeList:
		n, err := d.Len()
		if err != nil {
			return nil, err
		}
		for ; n > 0; n-- {
			s, err := d.String()
			if err != nil {
				return nil, err
			}
			l.PushBack(s)
		}
	case rdb.TypeListZiplist:
		blob, err := d.String()
		if err != nil {
			return nil, err
		}
		elems, err := listpack.ZiplistDecode(blob)
		if err != nil {
			return nil, d.Corrupt("list ziplist: %v", err)
		}
		push(elems)
	case rdb.TypeListQuicklist, rdb.TypeListQuicklist2:
		n, err := d.Len()
		if err != nil {
			return nil, err
		}
		for ; n > 0; n-- {
			container := uint64(containerPacked)
			if t == rdb.TypeListQuicklist2 {
				if container, err = d.Len(); err != nil {
					return nil, err
				}
				if container != containerPlain && container != containerPacked {
					return nil, d.Corrupt("quicklist node container %d", container)
				}
			}
			blob, err := d.String()
			if err != nil {
				return nil, err
			}
			if container == containerPlain {
				l.PushBack(blob)
				continue
			}
			var elems [][]byte
			if t == rdb.TypeListQuicklist {
				elems, err = listpack.ZiplistDecode(blob)
			} else {
				elems, err = listpack.Decode(blob)
			}
			if err != nil {
				return nil, d.Corrupt("quicklist node: %v", err)
			}
			push(elems)
		}
	}
	if l.Len() == 0 {
		return nil, rdb.ErrEmptyKey
	}
	return l, nil
}

// Rewrite returns RPUSH commands.
func (listCodec) Rewrite(key []byte, v any) [][][]byte {
	l := v.(*keyspace.List)
	items := make([][]byte, l.Len())
	for i := range items {
		items[i] = l.Index(i)
	}
	return rewriteBatches("RPUSH", key, items, batch)
}
