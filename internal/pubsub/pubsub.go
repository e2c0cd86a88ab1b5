// Package pubsub is the publish/subscribe registry: channel, pattern and
// shard channel subscriptions, message fan-out and keyspace notifications.
//
// A subscriber is identified by its client id and receives messages through
// a Sink that the server provides for that client. Sinks never block: a
// publisher may hold keyspace locks while it publishes.
package pubsub

import (
	"hash/maphash"
	"sort"
	"strconv"
	"sync"
	"sync/atomic"

	"github.com/crescent-db/crescent/internal/glob"
)

// Kind is a subscription namespace.
type Kind uint8

// Subscription kinds.
const (
	Channel Kind = iota // SUBSCRIBE
	Pattern             // PSUBSCRIBE
	Shard               // SSUBSCRIBE
)

// Sink receives encoded messages for one client. Deliver must not block and
// must not keep m's bytes beyond the call unless it copies them. It
// reports false when the client is closed already (closed by the server,
// its subscriptions not yet removed): the message is then not counted
// among PUBLISH's receivers, as Redis, which frees such a client before
// its next command, does not count it.
type Sink interface {
	Deliver(m *Message) bool
}

// Message is one encoded pub/sub message. Its RESP2 encoding is an array
// and its RESP3 encoding a push; they differ only in their first byte.
type Message struct {
	b   []byte // RESP2 encoding
	raw bool   // sent as is in both protocols (NewRaw)
	// dual: b is the RESP2 bytes and alt the RESP3 bytes (NewDual)
	dual bool
	alt  []byte
}

// AppendTo appends the message encoded for protocol proto (2 or 3).
func (m *Message) AppendTo(dst []byte, proto int) []byte {
	if m.dual && proto >= 3 {
		return append(dst, m.alt...)
	}
	if m.raw {
		return append(dst, m.b...)
	}
	if proto >= 3 {
		dst = append(dst, '>')
	} else {
		dst = append(dst, '*')
	}
	return append(dst, m.b[1:]...)
}

// Len is the encoded size in bytes.
func (m *Message) Len() int { return max(len(m.b), len(m.alt)) }

func appendBulk(b, s []byte) []byte {
	b = append(b, '$')
	b = strconv.AppendInt(b, int64(len(s)), 10)
	b = append(b, '\r', '\n')
	b = append(b, s...)
	return append(b, '\r', '\n')
}

// NewMessage encodes a message of the given kind ("message", "pmessage",
// "smessage"). pattern is nil except for pmessage.
func NewMessage(kind string, pattern, channel, payload []byte) *Message {
	n := 3
	size := 16 + len(kind) + len(channel) + len(payload) + 3*14
	if pattern != nil {
		n = 4
		size += len(pattern) + 14
	}
	b := make([]byte, 0, size)
	b = append(b, '*')
	b = strconv.AppendInt(b, int64(n), 10)
	b = append(b, '\r', '\n')
	b = appendBulk(b, []byte(kind))
	if pattern != nil {
		b = appendBulk(b, pattern)
	}
	b = appendBulk(b, channel)
	b = appendBulk(b, payload)
	return &Message{b: b}
}

// subList is the subscribers of one channel or pattern: a slice for fast
// fan-out and an index for O(1) removal.
type subList struct {
	list []*client
	idx  map[*client]int
}

func (l *subList) add(c *client) bool {
	if _, ok := l.idx[c]; ok {
		return false
	}
	l.idx[c] = len(l.list)
	l.list = append(l.list, c)
	return true
}

func (l *subList) remove(c *client) bool {
	i, ok := l.idx[c]
	if !ok {
		return false
	}
	last := len(l.list) - 1
	l.list[i] = l.list[last]
	l.idx[l.list[i]] = i
	l.list[last] = nil
	l.list = l.list[:last]
	delete(l.idx, c)
	return true
}

const numShards = 16

type registry struct {
	mu sync.RWMutex
	m  map[string]*subList
}

// client is one subscriber's state. Its sets are changed and read under
// Hub.cmu: by the client's own goroutine, and by another that disconnects
// it (Remove).
type client struct {
	id    int64
	sink  Sink
	names [3]map[string]uint64 // name -> order of subscription
	seq   uint64               // the last order given
}

// Hub is the registry of subscriptions. It is safe for concurrent use.
type Hub struct {
	sinks func(id int64) Sink
	seed  maphash.Seed

	chans  [numShards]registry // Channel
	shards [numShards]registry // Shard
	pats   registry

	nchans  atomic.Int64 // channels with at least one subscriber
	nshards atomic.Int64
	npats   atomic.Int64 // patterns with at least one subscriber

	cmu     sync.Mutex
	clients map[int64]*client

	notify atomic.Uint32 // keyspace notification flags
}

// New returns an empty hub. sinks returns the sink of a client id on its
// first subscription (nil: messages to it are dropped).
func New(sinks func(id int64) Sink) *Hub {
	return &Hub{sinks: sinks, seed: maphash.MakeSeed(), clients: map[int64]*client{}}
}

func (h *Hub) reg(k Kind, name string) *registry {
	switch k {
	case Pattern:
		return &h.pats
	case Shard:
		return &h.shards[maphash.String(h.seed, name)%numShards]
	}
	return &h.chans[maphash.String(h.seed, name)%numShards]
}

func (h *Hub) counter(k Kind) *atomic.Int64 {
	switch k {
	case Pattern:
		return &h.npats
	case Shard:
		return &h.nshards
	}
	return &h.nchans
}

type nopSink struct{}

func (nopSink) Deliver(*Message) bool { return true }

// Subscribe adds id's subscription to name and returns the client's
// subscription count as Redis replies it: channels plus patterns for
// Channel and Pattern, shard channels for Shard.
func (h *Hub) Subscribe(id int64, k Kind, name string) int {
	h.cmu.Lock()
	c := h.clients[id]
	h.cmu.Unlock()
	if c == nil {
		var sink Sink
		if h.sinks != nil {
			sink = h.sinks(id)
		}
		if sink == nil {
			sink = nopSink{}
		}
		c = &client{id: id, sink: sink}
		for i := range c.names {
			c.names[i] = map[string]uint64{}
		}
		h.cmu.Lock()
		h.clients[id] = c
		h.cmu.Unlock()
	}
	h.cmu.Lock()
	_, ok := c.names[k][name]
	h.cmu.Unlock()
	if !ok {
		r := h.reg(k, name)
		r.mu.Lock()
		if r.m == nil {
			r.m = map[string]*subList{}
		}
		l := r.m[name]
		if l == nil {
			l = &subList{idx: map[*client]int{}}
			r.m[name] = l
			h.counter(k).Add(1)
		}
		l.add(c)
		r.mu.Unlock()
		h.cmu.Lock()
		c.seq++
		c.names[k][name] = c.seq
		h.cmu.Unlock()
	}
	return h.count(c, k)
}

// Unsubscribe removes id's subscription to name (if any) and returns the
// count as Subscribe does.
func (h *Hub) Unsubscribe(id int64, k Kind, name string) int {
	h.cmu.Lock()
	c := h.clients[id]
	h.cmu.Unlock()
	if c == nil {
		return 0
	}
	h.unsubscribe(c, k, name)
	return h.count(c, k)
}

func (h *Hub) unsubscribe(c *client, k Kind, name string) {
	h.cmu.Lock()
	_, ok := c.names[k][name]
	h.cmu.Unlock()
	if !ok {
		return
	}
	r := h.reg(k, name)
	r.mu.Lock()
	if l := r.m[name]; l != nil && l.remove(c) && len(l.list) == 0 {
		delete(r.m, name)
		h.counter(k).Add(-1)
	}
	r.mu.Unlock()
	h.cmu.Lock()
	delete(c.names[k], name)
	h.cmu.Unlock()
}

func (h *Hub) count(c *client, k Kind) int {
	h.cmu.Lock()
	defer h.cmu.Unlock()
	if k == Shard {
		return len(c.names[Shard])
	}
	return len(c.names[Channel]) + len(c.names[Pattern])
}

// Subscriptions returns id's subscriptions of kind k: patterns in the order
// they were subscribed (Redis 7.0 keeps a client's patterns in a list, so
// PUNSUBSCRIBE without arguments answers in that order), channels and shard
// channels sorted (Redis keeps them in a dict, in no fixed order).
func (h *Hub) Subscriptions(id int64, k Kind) []string {
	h.cmu.Lock()
	defer h.cmu.Unlock()
	c := h.clients[id]
	if c == nil {
		return nil
	}
	out := make([]string, 0, len(c.names[k]))
	for n := range c.names[k] {
		out = append(out, n)
	}
	if k == Pattern {
		sort.Slice(out, func(i, j int) bool { return c.names[k][out[i]] < c.names[k][out[j]] })
	} else {
		sort.Strings(out)
	}
	return out
}

// Counts returns id's channel, pattern and shard channel counts.
func (h *Hub) Counts(id int64) (sub, psub, ssub int) {
	h.cmu.Lock()
	defer h.cmu.Unlock()
	c := h.clients[id]
	if c == nil {
		return 0, 0, 0
	}
	return len(c.names[Channel]), len(c.names[Pattern]), len(c.names[Shard])
}

// Total returns id's number of subscriptions of all kinds.
func (h *Hub) Total(id int64) int {
	a, b, c := h.Counts(id)
	return a + b + c
}

// Remove drops every subscription of id (RESET, disconnection).
func (h *Hub) Remove(id int64) {
	h.cmu.Lock()
	c := h.clients[id]
	h.cmu.Unlock()
	if c == nil {
		return
	}
	for k := range c.names {
		for _, n := range h.Subscriptions(id, Kind(k)) {
			h.unsubscribe(c, Kind(k), n)
		}
	}
	h.cmu.Lock()
	delete(h.clients, id)
	h.cmu.Unlock()
}

// Publish sends payload to the subscribers of channel and of the patterns
// matching it, and returns the number of deliveries.
func (h *Hub) Publish(channel, payload []byte) int {
	return h.PublishFrom(channel, payload, Self{})
}

// Self is the publishing client when it writes its own messages inline:
// Redis 7.0 appends a message for the publisher itself to its reply
// buffer as it publishes, so it comes before PUBLISH's reply (and inside
// EXEC's array, where EXEC ran the PUBLISH). Deliveries to client ID are
// appended to *Buf, encoded for Proto, instead of going to its Sink; a zero
// Self (Buf nil) delivers to sinks.
type Self struct {
	ID    int64
	Buf   *[]byte
	Proto int
}

func (s Self) deliver(c *client, m *Message) int {
	if s.Buf != nil && c.id == s.ID {
		*s.Buf = m.AppendTo(*s.Buf, s.Proto)
		return 1
	}
	if c.sink.Deliver(m) {
		return 1
	}
	return 0
}

// PublishFrom is Publish by the client self.
func (h *Hub) PublishFrom(channel, payload []byte, self Self) int {
	n := h.fanout(&h.chans[maphash.Bytes(h.seed, channel)%numShards], "message", channel, payload, self)
	if h.npats.Load() == 0 {
		return n
	}
	ch := string(channel)
	h.pats.mu.RLock()
	for pat, l := range h.pats.m {
		if !matchChannel(pat, ch) {
			continue
		}
		m := NewMessage("pmessage", []byte(pat), channel, payload)
		for _, c := range l.list {
			n += self.deliver(c, m)
		}
	}
	h.pats.mu.RUnlock()
	return n
}

// matchChannel reports whether channel matches the glob pattern as Redis
// 7.0's stringmatchlen says: its loop runs while both pattern and string
// are left, so the empty channel matches only the empty pattern ("*" does
// not match it: PUBLISH "" reaches no PSUBSCRIBE *, PUBSUB CHANNELS * does
// not list it).
func matchChannel(pattern, channel string) bool {
	if channel == "" {
		return pattern == ""
	}
	return glob.Match(pattern, channel, false)
}

// SPublish sends payload to the subscribers of shard channel channel.
func (h *Hub) SPublish(channel, payload []byte) int {
	return h.SPublishFrom(channel, payload, Self{})
}

// SPublishFrom is SPublish by the client self.
func (h *Hub) SPublishFrom(channel, payload []byte, self Self) int {
	return h.fanout(&h.shards[maphash.Bytes(h.seed, channel)%numShards], "smessage", channel, payload, self)
}

func (h *Hub) fanout(r *registry, kind string, channel, payload []byte, self Self) int {
	r.mu.RLock()
	defer r.mu.RUnlock()
	l := r.m[string(channel)]
	if l == nil || len(l.list) == 0 {
		return 0
	}
	m := NewMessage(kind, nil, channel, payload)
	n := 0
	for _, c := range l.list {
		n += self.deliver(c, m)
	}
	return n
}

// Channels returns the active channels (Channel or Shard), sorted: all of
// them, or when match is set those matching the glob pattern.
func (h *Hub) Channels(k Kind, pattern string, match bool) []string {
	regs := &h.chans
	if k == Shard {
		regs = &h.shards
	}
	var out []string
	for i := range regs {
		r := &regs[i]
		r.mu.RLock()
		for n := range r.m {
			if !match || matchChannel(pattern, n) {
				out = append(out, n)
			}
		}
		r.mu.RUnlock()
	}
	sort.Strings(out)
	return out
}

// NumSub returns the number of subscribers of channel (Channel or Shard).
func (h *Hub) NumSub(k Kind, channel string) int {
	r := h.reg(k, channel)
	r.mu.RLock()
	defer r.mu.RUnlock()
	if l := r.m[channel]; l != nil {
		return len(l.list)
	}
	return 0
}

// NumChannels is the number of channels with subscribers (INFO
// pubsub_channels).
func (h *Hub) NumChannels() int { return int(h.nchans.Load()) }

// NumPatterns is the number of patterns with subscribers (PUBSUB NUMPAT,
// INFO pubsub_patterns).
func (h *Hub) NumPatterns() int { return int(h.npats.Load()) }

// NumShardChannels is the number of shard channels with subscribers.
func (h *Hub) NumShardChannels() int { return int(h.nshards.Load()) }

// DropShardChannels ends every subscription to the shard channels named,
// in the order given, as Redis 7.0 does for the channels of a hash slot
// its shard no longer serves (cluster.c's removeChannelsInSlot): each
// subscriber is told with a `sunsubscribe <channel> <count>` push, count
// being its shard channels left. A client whose subscriptions all went
// leaves subscribed mode at its next command (the executor asks
// Subscribed). It returns the number of subscriptions ended.
func (h *Hub) DropShardChannels(channels []string) int {
	dropped := 0
	for _, name := range channels {
		r := h.reg(Shard, name)
		r.mu.Lock()
		l := r.m[name]
		if l != nil {
			delete(r.m, name)
			h.nshards.Add(-1)
		}
		r.mu.Unlock()
		if l == nil {
			continue
		}
		for _, c := range l.list {
			h.cmu.Lock()
			_, ok := c.names[Shard][name]
			delete(c.names[Shard], name)
			left := len(c.names[Shard])
			h.cmu.Unlock()
			if !ok {
				continue
			}
			c.sink.Deliver(unsubscribed("sunsubscribe", name, left))
			dropped++
		}
	}
	return dropped
}

// ShardChannelsInSlots returns the shard channels with subscribers whose
// slot (slotOf) is one of slots, ordered by slot, then by name, the order
// of Redis 7.0's slot-to-channels index.
func (h *Hub) ShardChannelsInSlots(slots []int, slotOf func(channel []byte) int) []string {
	if h.nshards.Load() == 0 || len(slots) == 0 {
		return nil
	}
	want := make(map[int]bool, len(slots))
	for _, s := range slots {
		want[s] = true
	}
	var out []string
	var at []int
	for _, name := range h.Channels(Shard, "", false) { // sorted by name
		if s := slotOf([]byte(name)); want[s] {
			out = append(out, name)
			at = append(at, s)
		}
	}
	idx := make([]int, len(out))
	for i := range idx {
		idx[i] = i
	}
	sort.SliceStable(idx, func(a, b int) bool { return at[idx[a]] < at[idx[b]] })
	sorted := make([]string, len(out))
	for i, j := range idx {
		sorted[i] = out[j]
	}
	return sorted
}

// Subscribed reports whether client id has any subscription left.
func (h *Hub) Subscribed(id int64) bool { return h.Total(id) > 0 }

// unsubscribed encodes an unsubscribe confirmation pushed to a client
// without its asking: [kind, channel, count].
func unsubscribed(kind, channel string, count int) *Message {
	b := make([]byte, 0, 32+len(kind)+len(channel))
	b = append(b, "*3\r\n"...)
	b = appendBulk(b, []byte(kind))
	b = appendBulk(b, []byte(channel))
	b = append(b, ':')
	b = strconv.AppendInt(b, int64(count), 10)
	b = append(b, '\r', '\n')
	return &Message{b: b}
}
