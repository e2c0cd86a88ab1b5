package codec

import (
	"encoding/binary"

	"github.com/crescent-db/crescent/internal/keyspace"
	"github.com/crescent-db/crescent/internal/persist/listpack"
	"github.com/crescent-db/crescent/internal/persist/rdb"
)

// Stream entry flags in a listpack node.
const (
	flagDeleted    = 1
	flagSameFields = 2
)

type streamCodec struct{}

func (streamCodec) TypeName() string { return "stream" }

func (streamCodec) RDBTypes() []byte {
	return []byte{rdb.TypeStreamListpacks, rdb.TypeStreamListpack2}
}

func appendID(dst []byte, id keyspace.StreamID) []byte {
	dst = binary.BigEndian.AppendUint64(dst, id.Ms)
	return binary.BigEndian.AppendUint64(dst, id.Seq)
}

func parseID(b []byte) keyspace.StreamID {
	return keyspace.StreamID{Ms: binary.BigEndian.Uint64(b), Seq: binary.BigEndian.Uint64(b[8:])}
}

// nodeListpack builds block i as Redis's listpack node: the master entry
// (live count, deleted count, field count, fields, 0), then each entry
// (flags, ms and seq deltas, [field count, fields,] values, element count).
func nodeListpack(b *listpack.Builder, s *keyspace.Stream, i int) {
	master, fields, live, count := s.BlockInfo(i)
	b.Int(int64(live))
	b.Int(int64(count - live))
	b.Int(int64(len(fields)))
	for _, f := range fields {
		b.String(f)
	}
	b.Int(0)
	s.BlockEntries(i, func(id keyspace.StreamID, deleted bool, fv [][]byte) bool {
		same := len(fv) == 2*len(fields)
		for j := 0; same && j < len(fields); j++ {
			same = string(fields[j]) == string(fv[2*j])
		}
		var flags int64
		if deleted {
			flags |= flagDeleted
		}
		if same {
			flags |= flagSameFields
		}
		b.Int(flags)
		b.Int(int64(id.Ms - master.Ms))
		b.Int(int64(id.Seq - master.Seq))
		n := len(fv) / 2
		lpCount := n + 3
		if !same {
			b.Int(int64(n))
			lpCount += n + 1
		}
		for j := 0; j < len(fv); j += 2 {
			if !same {
				b.String(fv[j])
			}
			b.String(fv[j+1])
		}
		b.Int(int64(lpCount))
		return true
	})
}

// Save writes STREAM_LISTPACKS_2.
func (streamCodec) Save(e *rdb.Encoder, v any) (byte, error) {
	s := v.(*keyspace.Stream)
	e.Len(uint64(s.NumBlocks()))
	var b listpack.Builder
	var buf []byte
	var key [16]byte
	for i := 0; i < s.NumBlocks(); i++ {
		master, _, _, _ := s.BlockInfo(i)
		e.String(appendID(key[:0], master))
		b.Reset(buf)
		nodeListpack(&b, s, i)
		b.Skew = s.BlockCountSkew(i) // a wrong count Redis kept
		buf = b.Finish()
		e.String(buf)
	}
	e.Len(uint64(s.Len()))
	e.Len(s.LastID.Ms)
	e.Len(s.LastID.Seq)
	e.Len(s.FirstID.Ms)
	e.Len(s.FirstID.Seq)
	e.Len(s.MaxDeletedID.Ms)
	e.Len(s.MaxDeletedID.Seq)
	e.Len(uint64(s.EntriesAdded))
	groups := s.Groups()
	e.Len(uint64(len(groups)))
	for _, g := range groups {
		e.String([]byte(g.Name))
		e.Len(g.LastID.Ms)
		e.Len(g.LastID.Seq)
		e.Len(uint64(g.EntriesRead))
		e.Len(uint64(g.PEL.Len()))
		g.PEL.Ascend(keyspace.StreamID{}, func(pe *keyspace.PendingEntry) bool {
			e.Buf = appendID(e.Buf, pe.ID)
			e.Millis(pe.DeliveryTime)
			e.Len(uint64(pe.DeliveryCount))
			return true
		})
		cons := g.Consumers()
		e.Len(uint64(len(cons)))
		for _, c := range cons {
			e.String([]byte(c.Name))
			e.Millis(c.SeenTime)
			e.Len(uint64(c.PEL.Len()))
			c.PEL.Ascend(keyspace.StreamID{}, func(pe *keyspace.PendingEntry) bool {
				e.Buf = appendID(e.Buf, pe.ID)
				return true
			})
		}
	}
	return rdb.TypeStreamListpack2, nil
}

// loadNode adds the entries of one listpack node.
func loadNode(d *rdb.Decoder, s *keyspace.Stream, master keyspace.StreamID, lp []byte) error {
	r, err := listpack.NewReader(lp)
	if err != nil {
		return d.Corrupt("stream node: %v", err)
	}
	r.IgnoreCount() // as Redis, which checks a node's entries, not its count
	if !r.More() {
		return d.Corrupt("empty listpack inside stream")
	}
	var scratch []byte
	elems := 0 // read, for the header's count (SetBlockCountSkew)
	next := func() (listpack.Elem, error) {
		elems++
		e, ok, err := r.Next()
		if err == nil && !ok {
			err = listpack.ErrCorrupt
		}
		if err != nil {
			return e, d.Corrupt("stream node: %v", err)
		}
		return e, nil
	}
	nextInt := func() (int64, error) {
		e, err := next()
		if err != nil {
			return 0, err
		}
		n, ok := e.Integer()
		if !ok {
			return 0, d.Corrupt("stream node: integer expected")
		}
		return n, nil
	}
	str := func() ([]byte, error) {
		e, err := next()
		if err != nil {
			return nil, err
		}
		scratch = e.Bytes(scratch)
		return append([]byte(nil), scratch...), nil
	}
	live, err := nextInt()
	if err != nil {
		return err
	}
	deleted, err := nextInt()
	if err != nil {
		return err
	}
	nf, err := nextInt()
	if err != nil {
		return err
	}
	if nf < 0 || nf > int64(len(lp)) {
		return d.Corrupt("stream node: bad master field count")
	}
	fields := make([][]byte, nf)
	for i := range fields {
		if fields[i], err = str(); err != nil {
			return err
		}
	}
	if z, err := nextInt(); err != nil || z != 0 {
		return d.Corrupt("stream node: bad master entry terminator")
	}
	if err := s.LoadBlock(master, fields); err != nil {
		return d.Corrupt("stream node: %v", err)
	}
	var fv [][]byte
	var gotLive, gotDeleted int64
	for r.More() {
		flags, err := nextInt()
		if err != nil {
			return err
		}
		dms, err := nextInt()
		if err != nil {
			return err
		}
		dseq, err := nextInt()
		if err != nil {
			return err
		}
		id := keyspace.StreamID{Ms: master.Ms + uint64(dms), Seq: master.Seq + uint64(dseq)}
		fv = fv[:0]
		n := int64(len(fields))
		if flags&flagSameFields == 0 {
			if n, err = nextInt(); err != nil {
				return err
			}
			if n < 0 || n > int64(len(lp)) {
				return d.Corrupt("stream node: bad field count")
			}
		}
		for j := int64(0); j < n; j++ {
			var f []byte
			if flags&flagSameFields != 0 {
				f = fields[j]
			} else if f, err = str(); err != nil {
				return err
			}
			v, err := str()
			if err != nil {
				return err
			}
			fv = append(fv, f, v)
		}
		want := n + 3
		if flags&flagSameFields == 0 {
			want += n + 1
		}
		if c, err := nextInt(); err != nil || c != want {
			return d.Corrupt("stream node: bad entry element count")
		}
		del := flags&flagDeleted != 0
		if del {
			gotDeleted++
		} else {
			gotLive++
		}
		if err := s.LoadEntry(id, fv, del); err != nil {
			return d.Corrupt("stream node: %v", err)
		}
	}
	if _, _, err := r.Next(); err != nil {
		return d.Corrupt("stream node: %v", err)
	}
	if gotLive != live || gotDeleted != deleted {
		return d.Corrupt("stream node: master entry counts %d/%d, found %d/%d", live, deleted, gotLive, gotDeleted)
	}
	// a wrong header count is kept, as Redis keeps the node's bytes: its
	// DUMP writes it, plus what was appended since (65535: unknown, kept)
	if h := int(binary.LittleEndian.Uint16(lp[4:6])); h != elems && (h != 65535 || elems < 65535) {
		s.SetBlockCountSkew(h - elems)
	}
	return nil // a node without live entries stays, as in Redis
}

func loadID(d *rdb.Decoder) (keyspace.StreamID, error) {
	ms, err := d.Len()
	if err != nil {
		return keyspace.StreamID{}, err
	}
	seq, err := d.Len()
	return keyspace.StreamID{Ms: ms, Seq: seq}, err
}

func loadRawID(d *rdb.Decoder) (keyspace.StreamID, error) {
	var b [16]byte
	if err := d.Full(b[:]); err != nil {
		return keyspace.StreamID{}, err
	}
	return parseID(b[:]), nil
}

// Load reads STREAM_LISTPACKS and STREAM_LISTPACKS_2.
func (streamCodec) Load(d *rdb.Decoder, t byte) (any, error) {
	s := keyspace.NewStream()
	nodes, err := d.Len()
	if err != nil {
		return nil, err
	}
	for ; nodes > 0; nodes-- {
		key, err := d.String()
		if err != nil {
			return nil, err
		}
		if len(key) != 16 {
			return nil, d.Corrupt("stream node key of %d bytes", len(key))
		}
		lp, err := d.String()
		if err != nil {
			return nil, err
		}
		if err := loadNode(d, s, parseID(key), lp); err != nil {
			return nil, err
		}
	}
	length, err := d.Len()
	if err != nil {
		return nil, err
	}
	if int64(length) != s.Len() {
		return nil, d.Corrupt("stream length %d, found %d entries", length, s.Len())
	}
	if s.LastID, err = loadID(d); err != nil {
		return nil, err
	}
	if t == rdb.TypeStreamListpack2 {
		if s.FirstID, err = loadID(d); err != nil {
			return nil, err
		}
		if s.MaxDeletedID, err = loadID(d); err != nil {
			return nil, err
		}
		added, err := d.Len()
		if err != nil {
			return nil, err
		}
		s.EntriesAdded = int64(added)
	} else {
		s.EntriesAdded = s.Len()
		s.Range(keyspace.StreamID{}, keyspace.MaxStreamID, false, func(id keyspace.StreamID, _ [][]byte) bool {
			s.FirstID = id
			return false
		})
	}
	ngroups, err := d.Len()
	if err != nil {
		return nil, err
	}
	for ; ngroups > 0; ngroups-- {
		name, err := d.String()
		if err != nil {
			return nil, err
		}
		last, err := loadID(d)
		if err != nil {
			return nil, err
		}
		var read int64
		if t == rdb.TypeStreamListpack2 {
			n, err := d.Len()
			if err != nil {
				return nil, err
			}
			read = int64(n)
		} else {
			read = s.EstimateDistance(last)
		}
		g := s.CreateGroup(name, last, read)
		if g == nil {
			return nil, d.Corrupt("duplicated consumer group name")
		}
		npel, err := d.Len()
		if err != nil {
			return nil, err
		}
		for ; npel > 0; npel-- {
			id, err := loadRawID(d)
			if err != nil {
				return nil, err
			}
			at, err := d.Millis()
			if err != nil {
				return nil, err
			}
			cnt, err := d.Len()
			if err != nil {
				return nil, err
			}
			if !g.PEL.Insert(&keyspace.PendingEntry{ID: id, DeliveryTime: at, DeliveryCount: int64(cnt)}) {
				return nil, d.Corrupt("duplicated global PEL entry")
			}
		}
		ncons, err := d.Len()
		if err != nil {
			return nil, err
		}
		for ; ncons > 0; ncons-- {
			cname, err := d.String()
			if err != nil {
				return nil, err
			}
			seen, err := d.Millis()
			if err != nil {
				return nil, err
			}
			c := g.CreateConsumer(cname, seen)
			if c == nil {
				return nil, d.Corrupt("duplicated consumer name")
			}
			n, err := d.Len()
			if err != nil {
				return nil, err
			}
			for ; n > 0; n-- {
				id, err := loadRawID(d)
				if err != nil {
					return nil, err
				}
				pe := g.PEL.Get(id)
				if pe == nil {
					return nil, d.Corrupt("consumer entry not found in group global PEL")
				}
				if pe.Consumer != nil || !c.PEL.Insert(pe) {
					return nil, d.Corrupt("duplicated consumer PEL entry")
				}
				pe.Consumer = c
			}
		}
		bad := false
		g.PEL.Ascend(keyspace.StreamID{}, func(pe *keyspace.PendingEntry) bool {
			bad = pe.Consumer == nil
			return !bad
		})
		if bad {
			return nil, d.Corrupt("stream group PEL entry without consumer")
		}
	}
	return s, nil
}

// Rewrite returns the commands Redis's AOF rewrite emits for a stream:
// XADD per entry (or an XADD trimmed to nothing for an empty stream),
// XSETID with the counters, then per group XGROUP CREATE, and per
// consumer its pending entries as XCLAIM ... FORCE or, when it has none,
// XGROUP CREATECONSUMER.
func (streamCodec) Rewrite(key []byte, v any) [][][]byte {
	s := v.(*keyspace.Stream)
	b := func(x string) []byte { return []byte(x) }
	id := func(x keyspace.StreamID) []byte { return x.Append(nil) }
	num := func(n int64) []byte { return []byte(itoa(n)) }
	var out [][][]byte
	if s.Len() > 0 {
		s.Range(keyspace.StreamID{}, keyspace.MaxStreamID, false, func(eid keyspace.StreamID, fv [][]byte) bool {
			c := [][]byte{b("XADD"), key, id(eid)}
			for _, x := range fv {
				c = append(c, append([]byte(nil), x...))
			}
			out = append(out, c)
			return true
		})
	} else {
		// an empty stream: XADD trimmed to nothing, as Redis writes it
		out = append(out, [][]byte{b("XADD"), key, b("MAXLEN"), b("0"), b("0-1"), b("x"), b("y")})
	}
	out = append(out, [][]byte{b("XSETID"), key, id(s.LastID), b("ENTRIESADDED"), num(s.EntriesAdded),
		b("MAXDELETEDID"), id(s.MaxDeletedID)})
	for _, g := range s.Groups() {
		out = append(out, [][]byte{b("XGROUP"), b("CREATE"), key, b(g.Name), id(g.LastID),
			b("ENTRIESREAD"), num(g.EntriesRead)})
		for _, c := range g.Consumers() {
			if c.PEL.Len() == 0 {
				out = append(out, [][]byte{b("XGROUP"), b("CREATECONSUMER"), key, b(g.Name), b(c.Name)})
				continue
			}
			c.PEL.Ascend(keyspace.StreamID{}, func(pe *keyspace.PendingEntry) bool {
				out = append(out, [][]byte{b("XCLAIM"), key, b(g.Name), b(c.Name), b("0"), id(pe.ID),
					b("TIME"), num(pe.DeliveryTime), b("RETRYCOUNT"), num(pe.DeliveryCount), b("JUSTID"), b("FORCE")})
				return true
			})
		}
	}
	return out
}
