package keyspace

import (
	"strconv"
	"testing"
	"unsafe"
)

func TestRecordSize(t *testing.T) {
	if n := unsafe.Sizeof(recHdr{}); n != 8 {
		t.Fatalf("recHdr is %d bytes", n)
	}
	if off := unsafe.Offsetof(objRec{}.recHdr); off != 0 {
		t.Fatalf("objRec header at %d", off)
	}
	// key:123456 -> value:123456 is one allocation of 29 bytes (class 32)
	k, v := []byte("key:123456"), []byte("value:123456")
	if n := testing.AllocsPerRun(100, func() { newStrRec(0, k, v, 0, 0) }); n != 1 {
		t.Fatalf("%v allocations per string record", n)
	}
	p := newStrRec(7, k, v, 0, 0)
	if r := decodeStr(p); int(r.keyOff)+r.klen+r.vcap != 29 {
		t.Fatalf("record is %d bytes", int(r.keyOff)+r.klen+r.vcap)
	}
	if recKey(p) != "key:123456" || !recKeyIs(p, k) || recKeyIs(p, v) || hdrOf(p).access != 7 {
		t.Fatal("record key")
	}
}

func TestMemoryAccounting(t *testing.T) {
	s := New(2, Hooks{})
	db := s.DB(0, 1000)
	if s.UsedMemory() != 0 {
		t.Fatal("empty store uses memory")
	}
	db.Set([]byte("a"), make([]byte, 100), 0)
	one := s.UsedMemory()
	if one < 100 {
		t.Fatalf("used %d", one)
	}
	db.Set([]byte("a"), make([]byte, 1000), 0)
	if s.UsedMemory() < 1000 || s.UsedMemory() > one+1000 {
		t.Fatalf("overwrite: %d", s.UsedMemory())
	}
	db.Set([]byte("b"), []byte("x"), 1500)
	s.DB(1, 1000).Set([]byte("c"), []byte("x"), 0)
	db.Delete([]byte("a"))
	later := s.DB(0, 2000)
	later.Exists([]byte("b")) // expires
	s.DB(1, 1000).Flush()
	if s.UsedMemory() != 0 {
		t.Fatalf("after delete/expire/flush: %d", s.UsedMemory())
	}
}

func TestAccessClock(t *testing.T) {
	s := New(1, Hooks{})
	s.DB(0, 1000).Set([]byte("k"), []byte("v"), 0)
	e, _ := s.DB(0, 61000).Peek([]byte("k"))
	if IdleSeconds(e.Access, 61000) != 60 {
		t.Fatalf("idle %d", IdleSeconds(e.Access, 61000))
	}
	s.DB(0, 61000).Lookup([]byte("k"))
	e, _ = s.DB(0, 61000).Peek([]byte("k"))
	if IdleSeconds(e.Access, 61000) != 0 {
		t.Fatal("lookup did not touch")
	}
	s.SetLFU(true)
	s.DB(0, 0).Set([]byte("f"), []byte("v"), 0)
	for i := 0; i < 1000; i++ {
		s.DB(0, 0).Lookup([]byte("f"))
	}
	e, _ = s.DB(0, 0).Peek([]byte("f"))
	if c := s.LFUCounter(e.Access, 0); c <= lfuInit {
		t.Fatalf("LFU counter %d after 1000 hits", c)
	}
	if c := s.LFUCounter(e.Access, 10*60000); c != s.LFUCounter(e.Access, 0)-10 {
		t.Fatalf("decay: %d", c)
	}
	// lfu-decay-time: minutes per decrement, 0 for none
	s.SetLFUParams(10, 5)
	if c := s.LFUCounter(e.Access, 10*60000); c != s.LFUCounter(e.Access, 0)-2 {
		t.Fatalf("decay with lfu-decay-time 5: %d", c)
	}
	s.SetLFUParams(10, 0)
	if c := s.LFUCounter(e.Access, 1000*60000); c != s.LFUCounter(e.Access, 0) {
		t.Fatalf("decay with lfu-decay-time 0: %d", c)
	}
	// an LRU clock read as an LFU field, and the reverse, as Redis reads
	// its 24-bit lru (after a policy change): a counter of at most 255
	s.SetLFUParams(10, 1)
	lru := uint32(1764116566) // seconds of 2025
	if c := s.LFUCounter(lru, 1764116566000); c < 0 || c > 255 {
		t.Fatalf("LFU counter of an LRU clock: %d", c)
	}
	if d := IdleSeconds(lfuMinutes(1764116566000)<<8|5, 1764116566000); d < 0 || d > lruClockMax {
		t.Fatalf("idle seconds of an LFU field: %d", d)
	}
}

// TestAccessFrom checks RESTORE's and loading's access fields against
// values read from redis-server 7.0.15 (OBJECT IDLETIME after RESTORE ...
// IDLETIME n, OBJECT FREQ after FREQ n), on its 24-bit LRU clock.
func TestAccessFrom(t *testing.T) {
	const now = int64(1764200000) * 1000 // clock 575_... (Unix seconds & 2^24-1)
	for _, tc := range []struct {
		lfu        bool
		idle, freq int64
		ok         bool
		read       int64 // OBJECT IDLETIME or FREQ
	}{
		{false, 0, -1, true, 0},
		{false, 1000, -1, true, 1000},
		{false, 16777215, -1, true, 0},
		{false, 16777216, -1, true, 1},
		{false, 100000000, -1, true, 16113920},
		{false, 9223372036854775807, -1, true, 16777214},
		{false, -1, 100, false, 0},
		{true, -1, 0, true, 0},
		{true, -1, 255, true, 255},
		{true, 1000, -1, false, 0},
	} {
		s := New(1, Hooks{})
		s.SetLFU(tc.lfu)
		a, ok := s.AccessFrom(tc.idle, tc.freq, now)
		if ok != tc.ok {
			t.Fatalf("%+v: ok %v", tc, ok)
		}
		if !ok {
			continue
		}
		got := IdleSeconds(a, now)
		if tc.lfu {
			got = int64(s.LFUCounter(a, now))
		}
		if got != tc.read {
			t.Errorf("%+v: read %d", tc, got)
		}
		db := s.DB(0, now)
		db.Set([]byte("k"), []byte("v"), 0)
		if !db.SetAccess([]byte("k"), a) || db.SetAccess([]byte("nokey"), a) {
			t.Fatal("SetAccess: existence")
		}
		if e, _ := db.Peek([]byte("k")); e.Access != a {
			t.Fatalf("SetAccess: %d, want %d", e.Access, a)
		}
	}
}

func TestEvictOne(t *testing.T) {
	cases := []struct {
		policy string
		keep   string // a key the policy must not pick first
	}{
		{"allkeys-lru", "recent"},
		{"volatile-ttl", "late"},
		{"volatile-random", "persistent"},
	}
	for _, c := range cases {
		t.Run(c.policy, func(t *testing.T) {
			s := New(1, Hooks{})
			db := s.DB(0, 1000)
			for i := 0; i < 20; i++ {
				db.Set([]byte("k"+strconv.Itoa(i)), []byte("v"), 1_000_000)
			}
			db.Set([]byte("persistent"), []byte("v"), 0)
			db.Set([]byte("late"), []byte("v"), 9_000_000)
			s.DB(0, 500_000).Set([]byte("recent"), []byte("v"), 9_000_000)
			p := ParsePolicy(c.policy)
			evicted := map[string]bool{}
			for i := 0; i < 10; i++ {
				if !s.EvictOne(p, 64, 500_000, func(_ int, k string) { evicted[k] = true }) {
					t.Fatal("nothing evicted")
				}
			}
			if evicted[c.keep] {
				t.Fatalf("evicted %s", c.keep)
			}
		})
	}
	s := New(1, Hooks{})
	s.DB(0, 0).Set([]byte("p"), []byte("v"), 0)
	if s.EvictOne(ParsePolicy("volatile-lru"), 5, 0, nil) {
		t.Fatal("volatile policy evicted a persistent key")
	}
	if s.EvictOne(ParsePolicy("noeviction"), 5, 0, nil) {
		t.Fatal("noeviction evicted")
	}
}

// TestEvictOneSparse: with a single key (one shard of NumShards holding
// anything), every policy that may take it evicts it every time; random
// shard picks alone missed it about once in three calls, and the command
// got OOM with a key left to evict.
func TestEvictOneSparse(t *testing.T) {
	for _, policy := range []string{"allkeys-lru", "allkeys-lfu", "allkeys-random", "volatile-lru", "volatile-ttl", "volatile-random"} {
		t.Run(policy, func(t *testing.T) {
			s := New(4, Hooks{})
			p := ParsePolicy(policy)
			for i := 0; i < 100; i++ {
				key := []byte("k" + strconv.Itoa(i))
				s.DB(i%4, 1000).Set(key, []byte("v"), 1_000_000)
				if !s.EvictOne(p, 5, 1000, nil) {
					t.Fatalf("round %d: the only key was not evicted", i)
				}
				if n := s.DB(i%4, 1000).Size(); n != 0 {
					t.Fatalf("round %d: %d keys left", i, n)
				}
			}
		})
	}
}

// TestLFUCounterRange checks LFUCounter against Redis's LFUDecrAndReturn,
// including access fields written as LRU clocks (seconds) before the policy
// became *-lfu: the counter stays within 0..255 (OBJECT FREQ, --hotkeys).
func TestLFUCounterRange(t *testing.T) {
	const now = int64(1795736631000) // ms
	nowMin := uint32(now / 60000 & 0xffff)
	cases := []struct {
		name   string
		access uint32
		want   int
	}{
		{"fresh", nowMin<<8 | 5, 5},
		{"three minutes idle", (nowMin-3)<<8 | 5, 2},
		{"idle longer than the counter", (nowMin-30)<<8 | 5, 0},
		{"minutes clock wrapped", 0xffff<<8 | 200, lfuRedis(0xffff<<8|200, now)},
		{"LRU clock of now", uint32(now / 1000), lfuRedis(uint32(now/1000), now)},
		{"LRU clock of a minute ago", uint32(now/1000 - 60), lfuRedis(uint32(now/1000-60), now)},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := LFUDecay(tc.access, now, 1)
			if got != tc.want || got < 0 || got > 255 {
				t.Fatalf("LFUDecay(%#x) = %d, want %d", tc.access, got, tc.want)
			}
		})
	}
}

// lfuRedis is Redis 7.0's LFUDecrAndReturn on a 24-bit lru field holding
// the low bits of a.
func lfuRedis(a uint32, nowMs int64) int {
	ldt := int64(a>>8) & 0xffff
	counter := int64(a & 255)
	now := nowMs / 60000 & 0xffff
	var periods int64
	if now >= ldt {
		periods = now - ldt
	} else {
		periods = 65535 - ldt + now
	}
	if periods > counter {
		return 0
	}
	return int(counter - periods)
}

// TestLFUParams checks lfu-decay-time (minutes per decrement, 0: none)
// and lfu-log-factor (0: every access counts) as Redis uses them.
func TestLFUParams(t *testing.T) {
	const now = int64(1795736631000)
	nowMin := uint32(now / 60000 & 0xffff)
	decay := []struct {
		name   string
		access uint32
		decay  int64
		want   int
	}{
		{"decay 0 keeps the counter", (nowMin-30)<<8 | 20, 0, 20},
		{"decay 2: 7 minutes are 3 periods", (nowMin-7)<<8 | 20, 2, 17},
		{"decay 1: 7 minutes", (nowMin-7)<<8 | 20, 1, 13},
		{"decay 10: 7 minutes are none", (nowMin-7)<<8 | 20, 10, 20},
	}
	for _, tc := range decay {
		t.Run(tc.name, func(t *testing.T) {
			if got := LFUDecay(tc.access, now, tc.decay); got != tc.want {
				t.Fatalf("LFUDecay = %d, want %d", got, tc.want)
			}
		})
	}
	t.Run("log factor 0", func(t *testing.T) {
		s := New(1, Hooks{})
		s.SetLFU(true)
		s.SetLFUParams(0, 0)
		db := s.DB(0, now)
		db.Set([]byte("k"), []byte("v"), 0)
		for i := 0; i < 20; i++ {
			db.Lookup([]byte("k"))
		}
		e, _ := db.Peek([]byte("k"))
		if c := s.LFUCounter(e.Access, now); c != lfuInit+20 {
			t.Fatalf("counter %d after 20 hits with lfu-log-factor 0, want %d", c, lfuInit+20)
		}
	})
}
