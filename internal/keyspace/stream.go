package keyspace

import (
	"encoding/binary"
	"math"
	"sort"
	"strconv"

	"github.com/crescent-db/crescent/internal/persist/listpack"
)

// StreamID is a stream entry ID: milliseconds and sequence number.
type StreamID struct {
	Ms, Seq uint64
}

// MaxStreamID is the greatest possible ID.
var MaxStreamID = StreamID{math.MaxUint64, math.MaxUint64}

// Cmp compares two IDs: -1, 0 or 1.
func (a StreamID) Cmp(b StreamID) int {
	switch {
	case a.Ms < b.Ms:
		return -1
	case a.Ms > b.Ms:
		return 1
	case a.Seq < b.Seq:
		return -1
	case a.Seq > b.Seq:
		return 1
	}
	return 0
}

// Less reports a < b.
func (a StreamID) Less(b StreamID) bool { return a.Cmp(b) < 0 }

// IsZero reports whether the ID is 0-0.
func (a StreamID) IsZero() bool { return a.Ms == 0 && a.Seq == 0 }

// Incr returns the next ID; ok is false on overflow (from the greatest ID).
func (a StreamID) Incr() (StreamID, bool) {
	if a.Seq == math.MaxUint64 {
		if a.Ms == math.MaxUint64 {
			return StreamID{}, false
		}
		return StreamID{a.Ms + 1, 0}, true
	}
	return StreamID{a.Ms, a.Seq + 1}, true
}

// Decr returns the previous ID; ok is false on underflow (from 0-0).
func (a StreamID) Decr() (StreamID, bool) {
	if a.Seq == 0 {
		if a.Ms == 0 {
			return StreamID{}, false
		}
		return StreamID{a.Ms - 1, math.MaxUint64}, true
	}
	return StreamID{a.Ms, a.Seq - 1}, true
}

// Append appends the "ms-seq" form of the ID to dst.
func (a StreamID) Append(dst []byte) []byte {
	dst = strconv.AppendUint(dst, a.Ms, 10)
	dst = append(dst, '-')
	return strconv.AppendUint(dst, a.Seq, 10)
}

// String returns "ms-seq".
func (a StreamID) String() string { return string(a.Append(nil)) }

// Block limits used when a stream has none set (Redis's defaults for
// stream-node-max-entries and stream-node-max-bytes).
const (
	DefaultStreamNodeEntries = 100
	DefaultStreamNodeBytes   = 4096
)

// streamListpackMaxSize is Redis's STREAM_LISTPACK_MAX_SIZE, the node
// size limit when stream-node-max-bytes is 0 or larger.
const streamListpackMaxSize = 1 << 30

// Entry flags inside a block.
const (
	sfDeleted    = 1
	sfSameFields = 2
)

// streamBlock is a run of consecutive entries packed in one byte slice, as
// Redis's listpack nodes. The first entry inserted fixes the block's
// master ID and master field names: an entry with the same field names
// stores only its values, and IDs are stored as deltas from the master ID.
//
// Entry layout: flags byte, uvarint ms delta, uvarint seq (delta from the
// master seq when the ms delta is 0), then either the values (uvarint
// length + bytes each) when sfSameFields, or a uvarint pair count and the
// field/value pairs.
type streamBlock struct {
	master       StreamID
	last         StreamID // ID of the last entry, deleted or not
	lastOff      int32    // offset of the last entry
	masterFields [][]byte
	data         []byte
	count        int32 // entries, deleted included
	live         int32
	// skew is how far the element count in the header of the listpack
	// node the block was loaded from was off (a corrupt payload Redis
	// restores without sanitizing): Redis keeps the node's bytes, its
	// appends add to the wrong count, and its DUMP writes it (BlockCountSkew)
	skew int32
	// lpSize is the size of the block as Redis's listpack node, without
	// the header, terminator and the live/deleted counts of its master
	// entry: Redis decides when to start a new node from that size.
	lpSize int
}

// listpackBytes is the size of the block as a Redis listpack.
func (b *streamBlock) listpackBytes() int {
	return listpack.Empty + b.lpSize + listpack.IntSize(int64(b.live)) + listpack.IntSize(int64(b.count-b.live))
}

// masterListpackSize is the listpack size of a master entry's field
// names, their count and the terminating 0.
func masterListpackSize(fields [][]byte) int {
	n := listpack.IntSize(int64(len(fields))) + listpack.IntSize(0)
	for _, f := range fields {
		n += listpack.StringSize(f)
	}
	return n
}

// entryListpackSize is the listpack size of entry id with pairs fv.
func (b *streamBlock) entryListpackSize(id StreamID, fv [][]byte, same bool) int {
	n := listpack.IntSize(0) + listpack.IntSize(int64(id.Ms-b.master.Ms)) +
		listpack.IntSize(int64(id.Seq-b.master.Seq))
	lpCount := len(fv)/2 + 3
	if !same {
		n += listpack.IntSize(int64(len(fv) / 2))
		lpCount += len(fv)/2 + 1
	}
	for i, s := range fv {
		if same && i%2 == 0 {
			continue
		}
		n += listpack.StringSize(s)
	}
	return n + listpack.IntSize(int64(lpCount))
}

func (b *streamBlock) decodeID(d []byte) (StreamID, int) {
	dms, n1 := binary.Uvarint(d)
	s, n2 := binary.Uvarint(d[n1:])
	id := StreamID{b.master.Ms + dms, s}
	if dms == 0 {
		id.Seq = b.master.Seq + s
	}
	return id, n1 + n2
}

// decode reads the entry at off. fields (field/value pairs) reuses buf and
// aliases the block's data. next is the offset of the following entry.
func (b *streamBlock) decode(off int, buf [][]byte) (id StreamID, flags byte, fields [][]byte, next int) {
	d := b.data
	flags = d[off]
	off++
	id, n := b.decodeID(d[off:])
	off += n
	fields = buf[:0]
	readStr := func() []byte {
		l, n := binary.Uvarint(d[off:])
		off += n
		s := d[off : off+int(l) : off+int(l)]
		off += int(l)
		return s
	}
	if flags&sfSameFields != 0 {
		for _, f := range b.masterFields {
			fields = append(fields, f, readStr())
		}
	} else {
		np, n := binary.Uvarint(d[off:])
		off += n
		for i := uint64(0); i < np; i++ {
			f := readStr()
			fields = append(fields, f, readStr())
		}
	}
	return id, flags, fields, off
}

// skip returns the ID and flags of the entry at off and the next offset,
// without collecting fields.
func (b *streamBlock) skip(off int) (id StreamID, flags byte, next int) {
	d := b.data
	flags = d[off]
	off++
	id, n := b.decodeID(d[off:])
	off += n
	skipStr := func() {
		l, n := binary.Uvarint(d[off:])
		off += n + int(l)
	}
	if flags&sfSameFields != 0 {
		for range b.masterFields {
			skipStr()
		}
	} else {
		np, n := binary.Uvarint(d[off:])
		off += n
		for i := uint64(0); i < 2*np; i++ {
			skipStr()
		}
	}
	return id, flags, off
}

func (s *Stream) newBlock(master StreamID, fields [][]byte) *streamBlock {
	b := &streamBlock{master: master, masterFields: fields, lpSize: masterListpackSize(fields)}
	s.blocks = append(s.blocks, b)
	return b
}

func sameFields(master, fv [][]byte) bool {
	if len(master)*2 != len(fv) {
		return false
	}
	for i, f := range master {
		if string(f) != string(fv[2*i]) {
			return false
		}
	}
	return true
}

func (b *streamBlock) appendEntry(id StreamID, fv [][]byte) {
	same := sameFields(b.masterFields, fv)
	b.lpSize += b.entryListpackSize(id, fv, same)
	d := b.data
	b.lastOff = int32(len(d))
	var flags byte
	if same {
		flags = sfSameFields
	}
	d = append(d, flags)
	dms := id.Ms - b.master.Ms
	d = binary.AppendUvarint(d, dms)
	if dms == 0 {
		d = binary.AppendUvarint(d, id.Seq-b.master.Seq)
	} else {
		d = binary.AppendUvarint(d, id.Seq)
	}
	if same {
		for i := 1; i < len(fv); i += 2 {
			d = binary.AppendUvarint(d, uint64(len(fv[i])))
			d = append(d, fv[i]...)
		}
	} else {
		d = binary.AppendUvarint(d, uint64(len(fv)/2))
		for _, s := range fv {
			d = binary.AppendUvarint(d, uint64(len(s)))
			d = append(d, s...)
		}
	}
	b.data = d
	b.last = id
	b.count++
	b.live++
}

// PendingEntry is a delivered, not yet acknowledged entry (Redis's NACK).
type PendingEntry struct {
	ID            StreamID
	DeliveryTime  int64 // Unix ms of the last delivery
	DeliveryCount int64
	Consumer      *Consumer
}

// Consumer is a consumer of a group.
type Consumer struct {
	Name       string
	SeenTime   int64 // last interaction
	ActiveTime int64 // last successful read or claim
	PEL        PEL
}

// Group is a consumer group.
type Group struct {
	Name   string
	LastID StreamID
	// EntriesRead is the logical read counter, -1 when unknown.
	EntriesRead int64
	PEL         PEL
	consumers   map[string]*Consumer
}

// Consumer returns the named consumer, or nil.
func (g *Group) Consumer(name []byte) *Consumer { return g.consumers[string(name)] }

// NumConsumers is the number of consumers.
func (g *Group) NumConsumers() int { return len(g.consumers) }

// CreateConsumer adds a consumer; it returns nil if it already exists.
func (g *Group) CreateConsumer(name []byte, now int64) *Consumer {
	if g.consumers[string(name)] != nil {
		return nil
	}
	if g.consumers == nil {
		g.consumers = map[string]*Consumer{}
	}
	c := &Consumer{Name: string(name), SeenTime: now, ActiveTime: -1}
	g.consumers[c.Name] = c
	return c
}

// DeleteConsumer removes a consumer and its pending entries from the
// group's PEL; it returns how many were pending.
func (g *Group) DeleteConsumer(c *Consumer) int {
	n := c.PEL.Len()
	c.PEL.Ascend(StreamID{}, func(pe *PendingEntry) bool {
		g.PEL.Delete(pe.ID)
		return true
	})
	delete(g.consumers, c.Name)
	return n
}

// Consumers returns the consumers sorted by name (Redis's rax order).
func (g *Group) Consumers() []*Consumer {
	out := make([]*Consumer, 0, len(g.consumers))
	for _, c := range g.consumers {
		out = append(out, c)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// Ack removes id from the group's and its consumer's PEL.
func (g *Group) Ack(id StreamID) bool {
	pe := g.PEL.Delete(id)
	if pe == nil {
		return false
	}
	if pe.Consumer != nil {
		pe.Consumer.PEL.Delete(id)
	}
	return true
}

// Stream is the stream value type.
type Stream struct {
	blocks []*streamBlock
	length int64
	// LastID is the last generated ID.
	LastID StreamID
	// FirstID is the recorded first entry ID (0-0 when empty).
	FirstID StreamID
	// MaxDeletedID is the greatest ID removed by XDEL.
	MaxDeletedID StreamID
	// EntriesAdded counts every entry ever added.
	EntriesAdded int64
	groups       []*Group // sorted by name
}

// NewStream returns an empty stream.
func NewStream() *Stream { return &Stream{} }

// TypeName is "stream".
func (s *Stream) TypeName() string { return "stream" }

// Encoding is "stream".
func (s *Stream) Encoding() string { return "stream" }

// Len is the number of entries.
func (s *Stream) Len() int64 { return s.length }

// NumBlocks is the number of blocks (Redis's radix-tree-keys).
func (s *Stream) NumBlocks() int { return len(s.blocks) }

// Append adds an entry with an ID greater than every ID in the stream. fv
// holds field/value pairs and is copied. Blocks hold at most maxEntries
// entries and maxBytes bytes (0: no limit, as stream-node-max-entries
// and stream-node-max-bytes 0 in Redis), decided as Redis decides when to
// start a new listpack node, so that blocks and Redis's nodes match.
func (s *Stream) Append(id StreamID, fv [][]byte, maxEntries, maxBytes int) {
	if maxEntries <= 0 {
		maxEntries = math.MaxInt32
	}
	if maxBytes <= 0 || maxBytes > streamListpackMaxSize {
		maxBytes = streamListpackMaxSize
	}
	var b *streamBlock
	if n := len(s.blocks); n > 0 {
		b = s.blocks[n-1]
		total := 0
		for _, x := range fv {
			total += len(x)
		}
		if b.listpackBytes()+total >= maxBytes || int(b.count) >= maxEntries {
			// seal the full block: drop its spare capacity
			b.data = append([]byte(nil), b.data...)
			b = nil
		}
	}
	if b == nil {
		fields := make([][]byte, len(fv)/2)
		for i := range fields {
			fields[i] = append([]byte(nil), fv[2*i]...)
		}
		b = s.newBlock(id, fields)
	}
	b.appendEntry(id, fv)
	s.length++
	s.EntriesAdded++
	s.LastID = id
	if s.length == 1 {
		s.FirstID = id
	}
}

// blockFor returns the index of the first block whose last ID >= id.
func (s *Stream) blockFor(id StreamID) int {
	return sort.Search(len(s.blocks), func(i int) bool { return !s.blocks[i].last.Less(id) })
}

// Range calls fn for each entry with start <= ID <= end, ascending (or
// descending when rev), until fn returns false. fields alias the stream
// and are valid only during the call; fn must not modify the stream.
func (s *Stream) Range(start, end StreamID, rev bool, fn func(id StreamID, fields [][]byte) bool) {
	if end.Less(start) {
		return
	}
	var buf [16][]byte
	if !rev {
		for bi := s.blockFor(start); bi < len(s.blocks); bi++ {
			b := s.blocks[bi]
			if end.Less(b.master) {
				return
			}
			for off := 0; off < len(b.data); {
				id, flags, next := b.skip(off)
				if id.Less(start) || flags&sfDeleted != 0 {
					off = next
					continue
				}
				if end.Less(id) {
					return
				}
				_, _, fields, next := b.decode(off, buf[:0])
				if !fn(id, fields) {
					return
				}
				off = next
			}
		}
		return
	}
	bi := sort.Search(len(s.blocks), func(i int) bool { return end.Less(s.blocks[i].master) }) - 1
	var offs []int
	for ; bi >= 0; bi-- {
		b := s.blocks[bi]
		if b.last.Less(start) {
			return
		}
		offs = offs[:0]
		for off := 0; off < len(b.data); {
			id, flags, next := b.skip(off)
			if flags&sfDeleted == 0 && !id.Less(start) && !end.Less(id) {
				offs = append(offs, off)
			}
			off = next
		}
		for i := len(offs) - 1; i >= 0; i-- {
			id, _, fields, _ := b.decode(offs[i], buf[:0])
			if !fn(id, fields) {
				return
			}
		}
	}
}

// Get returns the fields of entry id (aliasing the stream).
func (s *Stream) Get(id StreamID) ([][]byte, bool) {
	var out [][]byte
	found := false
	s.Range(id, id, false, func(_ StreamID, f [][]byte) bool {
		out, found = append([][]byte(nil), f...), true
		return false
	})
	return out, found
}

// Exists reports whether entry id exists.
func (s *Stream) Exists(id StreamID) bool {
	bi := s.blockFor(id)
	if bi == len(s.blocks) {
		return false
	}
	b := s.blocks[bi]
	for off := 0; off < len(b.data); {
		eid, flags, next := b.skip(off)
		// as Redis's iterator: deleted entries are skipped before the
		// range check (after XSETID below a deleted entry, a live one may
		// follow a greater deleted one in a block)
		if flags&sfDeleted == 0 {
			if eid == id {
				return true
			}
			if id.Less(eid) {
				return false
			}
		}
		off = next
	}
	return false
}

// LastValidID returns the ID of the last live entry (0-0 when empty).
func (s *Stream) LastValidID() StreamID {
	if n := len(s.blocks); n > 0 {
		if b := s.blocks[n-1]; b.data[b.lastOff]&sfDeleted == 0 {
			return b.last
		}
	}
	var out StreamID
	s.Range(StreamID{}, MaxStreamID, true, func(id StreamID, _ [][]byte) bool { out = id; return false })
	return out
}

func (s *Stream) firstValidID() StreamID {
	var out StreamID
	s.Range(StreamID{}, MaxStreamID, false, func(id StreamID, _ [][]byte) bool { out = id; return false })
	return out
}

func (s *Stream) removeBlock(bi int) {
	copy(s.blocks[bi:], s.blocks[bi+1:])
	s.blocks[len(s.blocks)-1] = nil
	s.blocks = s.blocks[:len(s.blocks)-1]
}

// Delete removes entry id (XDEL), updating the recorded first ID and the
// max deleted ID. It reports whether the entry existed.
func (s *Stream) Delete(id StreamID) bool {
	bi := s.blockFor(id)
	if bi == len(s.blocks) {
		return false
	}
	b := s.blocks[bi]
	for off := 0; off < len(b.data); {
		eid, flags, next := b.skip(off)
		if flags&sfDeleted != 0 { // skipped first, as in Exists
			off = next
			continue
		}
		if id.Less(eid) {
			return false
		}
		if eid == id {
			b.data[off] |= sfDeleted
			b.live--
			s.length--
			if b.live == 0 {
				s.removeBlock(bi)
			}
			if s.MaxDeletedID.Less(id) {
				s.MaxDeletedID = id
			}
			if s.length == 0 {
				s.FirstID = StreamID{}
			} else if id == s.FirstID {
				s.FirstID = s.firstValidID()
			}
			return true
		}
		off = next
	}
	return false
}

// TrimMaxLen trims to at most maxLen entries as XTRIM MAXLEN does; with
// approx only whole blocks are removed, and limit (0: none) caps the
// entries removed. It returns the number removed.
func (s *Stream) TrimMaxLen(maxLen int64, approx bool, limit int64) int64 {
	return s.trim(func(b *streamBlock) bool { return s.length-int64(b.live) >= maxLen },
		func(StreamID) bool { return s.length <= maxLen },
		func() bool { return s.length <= maxLen }, approx, limit)
}

// TrimMinID removes entries with IDs below minID as XTRIM MINID does.
func (s *Stream) TrimMinID(minID StreamID, approx bool, limit int64) int64 {
	return s.trim(func(b *streamBlock) bool { return b.last.Less(minID) },
		func(id StreamID) bool { return !id.Less(minID) },
		func() bool { return false }, approx, limit)
}

func (s *Stream) trim(wholeBlock func(*streamBlock) bool, stopAt func(StreamID) bool, done func() bool, approx bool, limit int64) int64 {
	var deleted int64
	for len(s.blocks) > 0 {
		if done() {
			break
		}
		b := s.blocks[0]
		if limit > 0 && deleted+int64(b.live) > limit {
			break
		}
		if wholeBlock(b) {
			s.length -= int64(b.live)
			deleted += int64(b.live)
			s.removeBlock(0)
			continue
		}
		if approx {
			break
		}
		for off := 0; off < len(b.data); {
			id, flags, next := b.skip(off)
			if stopAt(id) {
				break
			}
			if flags&sfDeleted == 0 {
				b.data[off] |= sfDeleted
				b.live--
				s.length--
				deleted++
			}
			off = next
		}
		// a block left without live entries stays, as Redis keeps the
		// node (until a later trim removes it whole)
		break
	}
	if s.length == 0 {
		s.FirstID = StreamID{}
	} else {
		s.FirstID = s.firstValidID()
	}
	return deleted
}

// Group returns the named group, or nil.
func (s *Stream) Group(name []byte) *Group {
	i := sort.Search(len(s.groups), func(i int) bool { return s.groups[i].Name >= string(name) })
	if i < len(s.groups) && s.groups[i].Name == string(name) {
		return s.groups[i]
	}
	return nil
}

// Groups returns the groups sorted by name. The slice must not be kept.
func (s *Stream) Groups() []*Group { return s.groups }

// CreateGroup adds a group; it returns nil if the name is taken.
func (s *Stream) CreateGroup(name []byte, last StreamID, entriesRead int64) *Group {
	i := sort.Search(len(s.groups), func(i int) bool { return s.groups[i].Name >= string(name) })
	if i < len(s.groups) && s.groups[i].Name == string(name) {
		return nil
	}
	g := &Group{Name: string(name), LastID: last, EntriesRead: entriesRead}
	s.groups = append(s.groups, nil)
	copy(s.groups[i+1:], s.groups[i:])
	s.groups[i] = g
	return g
}

// DestroyGroup removes the named group and reports whether it existed.
func (s *Stream) DestroyGroup(name []byte) bool {
	for i, g := range s.groups {
		if g.Name == string(name) {
			s.groups = append(s.groups[:i], s.groups[i+1:]...)
			return true
		}
	}
	return false
}

// RangeHasTombstones reports whether entries between start and end (nil:
// open) may have been deleted, as Redis's streamRangeHasTombstones.
func (s *Stream) RangeHasTombstones(start, end *StreamID) bool {
	if s.length == 0 || s.MaxDeletedID.IsZero() {
		return false
	}
	if s.MaxDeletedID.Less(s.FirstID) {
		return false
	}
	st, en := StreamID{}, MaxStreamID
	if start != nil {
		st = *start
	}
	if end != nil {
		en = *end
	}
	return !s.MaxDeletedID.Less(st) && !en.Less(s.MaxDeletedID)
}

// EstimateDistance returns the logical read counter of id, or -1 when it
// cannot be known (Redis's streamEstimateDistanceFromFirstEverEntry).
func (s *Stream) EstimateDistance(id StreamID) int64 {
	if s.EntriesAdded == 0 {
		return 0
	}
	if s.length == 0 && id.Cmp(s.LastID) < 1 {
		return s.EntriesAdded
	}
	switch id.Cmp(s.LastID) {
	case 0:
		return s.EntriesAdded
	case 1:
		return -1
	}
	cmpFirst := id.Cmp(s.FirstID)
	if s.MaxDeletedID.IsZero() || s.MaxDeletedID.Less(s.FirstID) {
		if cmpFirst < 0 {
			return s.EntriesAdded - s.length
		} else if cmpFirst == 0 {
			return s.EntriesAdded - s.length + 1
		}
	}
	return -1
}

// Lag returns a group's lag and whether it is known.
func (s *Stream) Lag(g *Group) (int64, bool) {
	if s.EntriesAdded == 0 {
		return 0, true
	}
	if g.EntriesRead != -1 && !s.RangeHasTombstones(&g.LastID, nil) {
		return s.EntriesAdded - g.EntriesRead, true
	}
	if er := s.EstimateDistance(g.LastID); er != -1 {
		return s.EntriesAdded - er, true
	}
	return 0, false
}

// Deliver records that id was read by the group: the group's last ID and
// read counter advance when id is beyond the last delivered ID. It
// reports whether the group's position changed.
func (s *Stream) Deliver(g *Group, id StreamID) bool {
	if !g.LastID.Less(id) {
		return false
	}
	if g.EntriesRead != -1 && !s.RangeHasTombstones(&id, nil) {
		g.EntriesRead++
	} else if s.EntriesAdded != 0 {
		g.EntriesRead = s.EstimateDistance(id)
	}
	g.LastID = id
	return true
}
