package keyspace

import (
	"strconv"
	"testing"
)

// BenchmarkActiveExpireTick is one cron tick of active expiry (20 samples
// in each shard) over 100,000 keys with a TTL, none expired.
func BenchmarkActiveExpireTick(b *testing.B) {
	s := New(1, Hooks{})
	db := s.DB(0, 1000)
	for i := 0; i < 100000; i++ {
		db.SetString([]byte("key:"+strconv.Itoa(i)), []byte("v"), 1_000_000)
	}
	b.ReportAllocs()
	for b.Loop() {
		for sh := 0; sh < NumShards; sh++ {
			s.ActiveExpire(sh, 0, 2000, 20)
		}
	}
}

// BenchmarkSetExpireNew sets a TTL on new keys (the volatile set's insert
// and its growth), 100,000 keys a round.
func BenchmarkSetExpireNew(b *testing.B) {
	keys := make([][]byte, 100000)
	for i := range keys {
		keys[i] = []byte("key:" + strconv.Itoa(i))
	}
	b.ReportAllocs()
	for b.Loop() {
		s := New(1, Hooks{})
		db := s.DB(0, 1000)
		for _, k := range keys {
			db.SetString(k, []byte("1"), 0)
			db.SetExpire(k, 60000)
		}
	}
}
