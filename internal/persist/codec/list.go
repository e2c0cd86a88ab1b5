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

type listCodec struct{ lim Limits }

func (listCodec) TypeName() string { return "list" }

func (listCodec) RDBTypes() []byte {
	return []byte{rdb.TypeList, rdb.TypeListZiplist, rdb.TypeListQuicklist, rdb.TypeListQuicklist2}
}

// QuicklistStats describes the quicklist Redis 7.0 keeps for l (the node
// layout DUMP and RDB files use): its node count, the total bytes of its
// nodes (a packed node's listpack; a plain node's element) and its fill
// (list-max-listpack-size as the quicklist keeps it), for DEBUG OBJECT's
// ql_* fields.
func QuicklistStats(l *keyspace.List) (nodes, bytes, fill int) {
	for _, nd := range l.QuicklistNodes() {
		nodes++
		bytes += int(nd.Size)
	}
	return nodes, bytes, l.Fill()
}

// Save writes LIST_QUICKLIST_2. The nodes past the list's compress depth
// from both ends are the ones Redis holds LZF-compressed: they are written
// as rdbSaveObject writes them, compressed even with rdbcompression no.
func (c listCodec) Save(e *rdb.Encoder, v any) (byte, error) {
	l := v.(*keyspace.List)
	nodes := l.QuicklistNodes()
	e.Len(uint64(len(nodes)))
	depth := l.CompressDepth()
	put := func(k int, s []byte) {
		if depth > 0 && k >= depth && k < len(nodes)-depth {
			e.CompressedNode(s)
		} else {
			e.String(s)
		}
	}
	var b listpack.Builder
	var buf []byte
	i := 0
	for k, nd := range nodes {
		n := nd.Count
		if nd.Plain {
			e.Len(containerPlain)
			put(k, l.Index(i))
			i++
			continue
		}
		e.Len(containerPacked)
		b.Reset(buf)
		for end := i + n; i < end; i++ {
			b.String(l.Index(i))
		}
		lp := b.Finish()
		put(k, lp)
		buf = lp
	}
	return rdb.TypeListQuicklist2, nil
}

// Load reads every list form, with the list-max-listpack-size and
// list-compress-depth in force (rdbLoadObject): the nodes of a quicklist stay as they were written;
// the elements of the older forms are pushed at the tail one by one.
func (c listCodec) Load(d *rdb.Decoder, t byte) (any, error) {
	l := keyspace.NewListFill(c.lim.ListFill(), c.lim.ListDepth())
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
			if len(blob) == 0 {
				// rdbLoadObject refuses a node of no bytes, of either container
				return nil, d.Corrupt("quicklist node of 0 bytes")
			}
			if container == containerPlain {
				l.AppendPlain(blob)
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
			l.AppendNode(elems) // an empty node is skipped, as in Redis
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
