package keyspace

import (
	"math"
	"math/rand/v2"
	"unsafe"
)

// entryOverhead approximates the bytes a key costs beyond its name and
// value: the map slot, the Entry and string headers.
const entryOverhead = 64

// Sizer is implemented by values that can report their approximate memory
// usage in bytes (lists, hashes, sets...). Values without it count as a
// small fixed size.
type Sizer interface {
	MemoryUsage() int64
}

func entrySizeLen(klen int, val any) uint32 {
	n := int64(klen) + entryOverhead
	switch v := val.(type) { // the concrete types first: no interface switch
	case []byte:
		n += int64(cap(v))
	case *List:
		n += v.MemoryUsage()
	case *Hash:
		n += v.MemoryUsage()
	case *Set:
		n += v.MemoryUsage()
	case *ZSet:
		n += v.MemoryUsage()
	case Sizer:
		n += v.MemoryUsage()
	default:
		n += 64
	}
	return clampSize(n)
}

func clampSize(n int64) uint32 {
	if n > math.MaxUint32 {
		n = math.MaxUint32
	}
	return uint32(n)
}

// Size returns the accounted memory of an entry (MEMORY USAGE).
func (e Entry) Size() int64 { return int64(e.size) }

// UsedMemory returns the accounted bytes of every key in every database.
// It needs no lock.
func (s *Store) UsedMemory() int64 {
	var n int64
	for i := range s.shards {
		n += s.shards[i].used.Load()
	}
	return n
}

// SetLFU selects how Entry.Access is maintained: an LFU counter (true, for
// the *-lfu policies) or an LRU clock.
func (s *Store) SetLFU(on bool) { s.lfu.Store(on) }

// SetNoSharedIntegers says whether Redis would now make new string
// values without its shared integers (maxmemory with an LRU or LFU
// policy): the string values written from now on are marked as objects
// of their own (Entry.Unshared) until it is turned off. Redis decides
// sharing when it makes the object, so a value keeps what it got when
// the policy changes (OBJECT REFCOUNT).
func (s *Store) SetNoSharedIntegers(on bool) {
	var f uint32
	if on {
		f = uint32(recOwn)
	}
	s.ownNew.Store(f)
}

// ownFlag is the flag of a new string value: recOwn while Redis would
// not share integers (SetNoSharedIntegers), else 0.
func (s *Store) ownFlag() uint8 { return uint8(s.ownNew.Load()) }

// LFU reports whether Entry.Access holds LFU counters.
func (s *Store) LFU() bool { return s.lfu.Load() }

// SetLFUParams sets lfu-log-factor (how slowly the counter grows) and
// lfu-decay-time (minutes per decrement of an idle key's counter; 0: no
// decay).
func (s *Store) SetLFUParams(logFactor, decayTime int64) {
	s.lfuLog.Store(logFactor + 1)
	s.lfuDecay.Store(decayTime + 1)
}

func (s *Store) lfuParams() (logFactor, decayTime int64) {
	logFactor, decayTime = s.lfuLog.Load()-1, s.lfuDecay.Load()-1
	if logFactor < 0 { // the zero Store: Redis's defaults
		logFactor = 10
	}
	if decayTime < 0 {
		decayTime = 1
	}
	return logFactor, decayTime
}

// lfuInit is a new key's LFU counter (Redis's LFU_INIT_VAL).
const lfuInit = 5

// lfuMinutes is Redis's LFUGetTimeInMinutes: minutes, 16 bits.
func lfuMinutes(nowMs int64) uint32 { return uint32(nowMs/60000) & 0xffff }

// lruClockMax is Redis's LRU_CLOCK_MAX: the LRU clock is the Unix time in
// seconds on 24 bits, as the lru field of Redis's objects.
const lruClockMax = 1<<24 - 1

// lruClock is Redis's LRU_CLOCK at nowMs.
func lruClock(nowMs int64) uint32 { return uint32(nowMs/1000) & lruClockMax }

func (s *Store) newAccess(nowMs int64) uint32 {
	if s.lfu.Load() {
		return lfuMinutes(nowMs)<<8 | lfuInit
	}
	return lruClock(nowMs)
}

// touch returns the access field after one more access at nowMs:
// Redis's updateLFU (decay, then LFULogIncr) or the LRU clock.
func (s *Store) touch(a uint32, nowMs int64) uint32 {
	if !s.lfu.Load() {
		return lruClock(nowMs)
	}
	c := s.LFUCounter(a, nowMs)
	if c < 255 {
		logFactor, _ := s.lfuParams()
		base := float64(c) - lfuInit
		if base < 0 {
			base = 0
		}
		if rand.Float64() < 1.0/(base*float64(logFactor)+1) {
			c++
		}
	}
	return lfuMinutes(nowMs)<<8 | uint32(c)
}

// LFUCounter returns the LFU counter of an access field at nowMs, decayed
// with the store's lfu-decay-time (OBJECT FREQ, eviction).
func (s *Store) LFUCounter(a uint32, nowMs int64) int {
	_, decay := s.lfuParams()
	return LFUDecay(a, nowMs, decay)
}

// LFUDecay returns the counter of an access field at nowMs, decremented
// once per decayTime idle minutes (0: never), as Redis's
// LFUDecrAndReturn: the last decrement time is the 16 bits above the
// counter, so that an access field written as an LRU clock (a key last
// touched before maxmemory-policy became *-lfu) gives a counter of 0..255
// as Redis reads its 24-bit lru, not a huge one.
func LFUDecay(a uint32, nowMs, decayTime int64) int {
	ldt := (a >> 8) & 0xffff
	c := int64(a & 0xff)
	if decayTime <= 0 {
		return int(c)
	}
	now := lfuMinutes(nowMs)
	var elapsed int64
	if now >= ldt {
		elapsed = int64(now - ldt)
	} else { // LFUTimeElapsed: the minute stamp wrapped
		elapsed = int64(65535 - ldt + now)
	}
	if periods := elapsed / decayTime; periods < c {
		return int(c - periods)
	}
	return 0
}

// IdleSeconds returns the seconds since the last access of an LRU access
// field at nowMs (OBJECT IDLETIME), as Redis's estimateObjectIdleTime: a
// field ahead of the clock is taken as wrapped around it.
func IdleSeconds(a uint32, nowMs int64) int64 {
	c := int64(lruClock(nowMs))
	l := int64(a & lruClockMax)
	if c >= l {
		return c - l
	}
	return c + lruClockMax - l
}

// AccessFrom returns the access field Redis's objectSetLRUOrLFU gives an
// object restored (RESTORE's IDLETIME and FREQ) or loaded (an RDB's IDLE and
// FREQ records) at nowMs: with LFU counters, the counter freq when freq >=
// 0; otherwise the access idle seconds ago when idle >= 0 (24-bit clock
// arithmetic and the int64 product included, as Redis computes them). ok is
// false when neither applies: the field then stays as it is.
func (s *Store) AccessFrom(idle, freq, nowMs int64) (a uint32, ok bool) {
	if s.lfu.Load() {
		if freq < 0 {
			return 0, false
		}
		return uint32(nowMs/60000&0xffff)<<8 | uint32(freq&0xff), true
	}
	if idle < 0 {
		return 0, false
	}
	idle = idle * 1000 / 1000 // lru_idle*lru_multiplier/LRU_CLOCK_RESOLUTION
	abs := int64(lruClock(nowMs)) - idle
	if abs < 0 {
		abs += lruClockMax
	}
	return uint32(abs) & lruClockMax, true
}

// Policy is a maxmemory-policy.
type Policy struct {
	Volatile bool // only keys with an expiry
	Kind     int  // PolicyLRU, PolicyLFU, PolicyRandom, PolicyTTL
}

// Eviction kinds.
const (
	PolicyNone = iota
	PolicyLRU
	PolicyLFU
	PolicyRandom
	PolicyTTL
)

// ParsePolicy parses a maxmemory-policy name; noeviction gives PolicyNone.
func ParsePolicy(name string) Policy {
	switch name {
	case "allkeys-lru":
		return Policy{Kind: PolicyLRU}
	case "allkeys-lfu":
		return Policy{Kind: PolicyLFU}
	case "allkeys-random":
		return Policy{Kind: PolicyRandom}
	case "volatile-lru":
		return Policy{Volatile: true, Kind: PolicyLRU}
	case "volatile-lfu":
		return Policy{Volatile: true, Kind: PolicyLFU}
	case "volatile-random":
		return Policy{Volatile: true, Kind: PolicyRandom}
	case "volatile-ttl":
		return Policy{Volatile: true, Kind: PolicyTTL}
	}
	return Policy{}
}

// EvictOne removes one key chosen by policy from samples sampled keys
// (Redis's approximated LRU/LFU/TTL), taking shard locks one at a time; the
// caller holds no shard lock. onEvict runs under the key's shard lock.
// It reports false when no key could be evicted.
func (s *Store) EvictOne(p Policy, samples int, nowMs int64, onEvict func(db int, key string)) bool {
	if p.Kind == PolicyNone {
		return false
	}
	if samples < 1 {
		samples = 1
	}
	type cand struct {
		sh, db int
		key    string
		score  float64
	}
	best := cand{sh: -1}
	got := 0
	sample := func(sh int) {
		s.LockShard(sh)
		for db := range s.shards[sh].dbs {
			ds := &s.shards[sh].dbs[db]
			n := ds.keys.n
			if p.Volatile {
				n = ds.nvol
			}
			if n == 0 {
				continue
			}
			var rp unsafe.Pointer
			pick := func(q unsafe.Pointer) bool {
				if !p.Volatile || recExpiry(q) != 0 {
					rp = q
					return false
				}
				return true
			}
			if p.Volatile {
				ds.volatile.each(rand.IntN(ds.volatile.span()), func(h uint64) bool {
					return ds.keys.bucket(h, pick)
				})
			} else {
				ds.keys.each(func(_ uint64, q unsafe.Pointer) bool { return pick(q) })
			}
			if rp == nil {
				continue
			}
			k := recKey(rp)
			e := entryOf(rp)
			var score float64
			switch p.Kind {
			case PolicyLRU:
				score = float64(IdleSeconds(e.Access, nowMs))
			case PolicyLFU:
				score = 255 - float64(s.LFUCounter(e.Access, nowMs))
			case PolicyTTL:
				score = -float64(e.Exp)
			case PolicyRandom:
				score = rand.Float64()
			}
			got++
			if best.sh < 0 || score > best.score {
				best = cand{sh, db, k, score}
			}
			break
		}
		s.UnlockShard(sh)
	}
	for tries := 0; got < samples && tries < samples*64; tries++ {
		sample(rand.IntN(NumShards))
	}
	if got == 0 {
		// Few keys in few shards: random picks can miss them all (a lone
		// key's shard is missed by 320 picks 29% of the time), and the
		// command would get OOM with keys left to evict. One pass over
		// every shard finds a key if there is one, as Redis's sampling
		// of its dict always does.
		start := rand.IntN(NumShards)
		for i := 0; i < NumShards && got < samples; i++ {
			sample((start + i) % NumShards)
		}
	}
	if best.sh < 0 {
		return false
	}
	s.LockShard(best.sh)
	defer s.UnlockShard(best.sh)
	ds := &s.shards[best.sh].dbs[best.db]
	key := []byte(best.key)
	h := s.Hash(key)
	rec := ds.keys.get(h, key)
	if rec == nil {
		return true // gone meanwhile: progress anyway
	}
	db := DB{s: s, idx: int32(best.db)}
	db.streamLeft(key, rec, nil)
	s.lazyFree(LazyEviction, rec)
	db.remove(ds, h, best.sh, rec)
	if onEvict != nil {
		onEvict(best.db, best.key)
	}
	return true
}

// Memory estimates of the collection types (Sizer), for used_memory,
// MEMORY USAGE and maxmemory. Like Redis's MEMORY USAGE (objectComputeSize
// with SAMPLES 5), each samples its first few elements and extrapolates
// (a sorted set counts its members' bytes instead), so that a measurement
// costs O(1) whatever the size: the
// executor re-measures a key after every write of its type
// (command.FlagResizes, DB.Resized).

// memSamples is how many elements an estimate looks at.
const memSamples = 8

// sampleBytes returns the estimated total of size(i) over n elements from
// the first memSamples of them, as Redis's MEMORY USAGE samples. They sit
// together in memory: samples spread over a large value missed the CPU
// caches once each and cost a pipelined LPUSH 15-25% of its throughput.
// The hot types sum their samples in a loop of their own and call
// extrapolate (the same result without a closure call per sample).
func sampleBytes(n int, size func(i int) int) int64 {
	k := min(n, memSamples)
	var sum int64
	for j := 0; j < k; j++ {
		sum += int64(size(j))
	}
	return extrapolate(sum, n, k)
}

// extrapolate returns the estimated total over n elements of which the
// first k (min(n, memSamples)) sum to sum.
func extrapolate(sum int64, n, k int) int64 {
	if k <= 0 {
		return 0
	}
	return sum * int64(n) / int64(k)
}

// Per-element overheads: a slice header (24 bytes) or string header (16),
// and Go map entries (about 48 bytes with their share of buckets).
const (
	sliceHdr = 24
	strHdr   = 16
	mapEntry = 48
)

// MemoryUsage implements Sizer.
func (l *List) MemoryUsage() int64 {
	n := int64(64)
	if l.q != nil {
		n += 48 + int64(len(l.q.ring))*16
	}
	if l.d != nil {
		n += int64(len(l.d.dir))*8 + int64(l.blocks())*listBlock*sliceHdr
	} else {
		n += int64(cap(l.buf)) * sliceHdr
	}
	k := min(l.n, memSamples)
	var sum int64
	if l.d == nil && l.head+k <= len(l.buf) {
		for _, e := range l.buf[l.head : l.head+k] { // no wrap-around
			sum += int64(len(e))
		}
	} else if l.d != nil && l.head+k <= listBlock {
		for _, e := range l.d.dir[l.d.first][l.head : l.head+k] { // in the first block
			sum += int64(len(e))
		}
	} else {
		for j := 0; j < k; j++ {
			sum += int64(len(l.Index(j)))
		}
	}
	return n + extrapolate(sum, l.n, k)
}

// MemoryUsage implements Sizer.
func (h *Hash) MemoryUsage() int64 {
	per := strHdr + sliceHdr
	if h.idx != nil {
		per += mapEntry
	}
	n := len(h.fields)
	k := min(n, memSamples)
	var sum int64
	for j, f := range h.fields[:k] {
		sum += int64(len(f) + len(h.vals[j]))
	}
	return 48 + int64(per*n) + extrapolate(sum, n, k)
}

// MemoryUsage implements Sizer.
func (s *Set) MemoryUsage() int64 {
	if s.idx == nil {
		return 48 + int64(cap(s.ints))*8
	}
	n := len(s.members)
	k := min(n, memSamples)
	var sum int64
	for _, m := range s.members[:k] {
		sum += int64(len(m))
	}
	return 48 + int64((strHdr+mapEntry)*n) + extrapolate(sum, n, k)
}

// MemoryUsage implements Sizer: a skiplist node (its header, score and
// on average 1.33 levels) and a dict entry per member, and the members'
// bytes (counted as they come and go: sampling would chase pointers).
func (z *ZSet) MemoryUsage() int64 {
	const node = 8 + strHdr + 8 + 24 + mapEntry
	return int64(64 + node*z.length + z.memberBytes)
}

// MemoryUsage implements Sizer: the entries' encoded blocks, estimated
// from a sample of blocks, and the consumer groups.
func (s *Stream) MemoryUsage() int64 {
	n := int64(96) + int64(len(s.groups))*256
	return n + sampleBytes(len(s.blocks), func(i int) int {
		b := s.blocks[i]
		m := 128 + cap(b.data)
		for _, f := range b.masterFields {
			m += sliceHdr + len(f)
		}
		return m
	})
}
