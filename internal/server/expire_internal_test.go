package server

import (
	"fmt"
	"testing"
	"time"

	"github.com/crescent-db/crescent/internal/keyspace"
)

// TestActiveExpireStopsWhenClean: a tick over keys that are not due ends
// after expireCleanShards shards (the next tick goes on from there); a
// tick over keys that are all due visits every shard and reclaims them.
func TestActiveExpireStopsWhenClean(t *testing.T) {
	s := newTestServer(t)
	now := s.exec.Now()
	fill := func(exp int64) {
		s.store.LockAll()
		db := s.store.DB(0, now)
		for i := range 20000 {
			db.SetString([]byte(fmt.Sprintf("k%d", i)), []byte("v"), exp)
		}
		s.store.UnlockAll()
	}
	size := func() int {
		s.store.LockAll()
		defer s.store.UnlockAll()
		return s.store.DB(0, now).Size()
	}
	fill(now + 3600_000)
	if next := s.activeExpire(0, time.Minute); next != expireCleanShards {
		t.Fatalf("a clean tick from shard 0 stopped before shard %d, want %d", next, expireCleanShards)
	}
	if next := s.activeExpire(40, time.Minute); next != 40+expireCleanShards {
		t.Fatalf("a clean tick from shard 40 stopped before shard %d", next)
	}
	fill(now - 1) // all due (not read, so not expired lazily)
	if next := s.activeExpire(7, time.Minute); next != 7 {
		t.Fatalf("a dirty tick stopped before shard %d, want all %d", next, keyspace.NumShards)
	}
	if n := size(); n > 20000/10 {
		t.Fatalf("%d of 20000 due keys left after a tick", n)
	}
}
