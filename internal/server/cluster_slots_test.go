package server_test

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/crescent-db/crescent/internal/cluster"
	"github.com/crescent-db/crescent/internal/difftest"
	"github.com/crescent-db/crescent/internal/keyspace"
)

// The slot→keys index (keyspace/slots.go, docs/design/cluster.md): random
// commands in cluster mode, after each of which COUNTKEYSINSLOT and
// GETKEYSINSLOT of every slot the command touched are checked against a
// walk of Crescent's keyspace and, when redis-server is installed, against
// a redis-server --cluster-enabled yes given the same commands (the keys in
// the same order: Redis lists a slot's keys newest first).

// slotCmd returns a random command over a few keys of three hash tags and
// two untagged keys, and whether the key it sets expires in a moment.
func slotCmd(r *rand.Rand) (cmd []string, expires bool) {
	tags := []string{"{a}", "{b}", "{c}"}
	tag := tags[r.IntN(len(tags))]
	key := func() string {
		if r.IntN(10) == 0 {
			return []string{"plain1", "plain2"}[r.IntN(2)]
		}
		return fmt.Sprintf("%s%d", tag, r.IntN(8))
	}
	k, k2 := key(), key()
	switch n := r.IntN(42); n {
	case 40: // keys the script does not declare (exec's partial-lock mode)
		return []string{"EVAL", "redis.call('del', ARGV[1]); redis.call('set', ARGV[2], 'e'); return redis.call('exists', KEYS[1])", "1", k, k2, key()}, false
	case 41:
		return []string{"EVAL", "return redis.call('rename', ARGV[1], ARGV[2])", "0", k, k2}, false
	case 0, 1, 2, 3:
		return []string{"SET", k, "v"}, false
	case 4:
		return []string{"SET", k, "v", "PX", "1"}, true
	case 5:
		return []string{"SET", k, "w", "NX"}, false
	case 6:
		return []string{"SET", k, "w", "XX", "GET"}, false
	case 7, 8:
		return []string{"DEL", k, k2}, false
	case 9:
		return []string{"UNLINK", k}, false
	case 10:
		return []string{"GETDEL", k}, false
	case 11:
		return []string{"GET", k}, false
	case 12:
		return []string{"RENAME", k, k2}, false
	case 13:
		return []string{"RENAMENX", k, k2}, false
	case 14:
		return []string{"COPY", k, k2}, false
	case 15:
		return []string{"COPY", k, k2, "REPLACE"}, false
	case 16:
		// 5 ms, not 1: redis-server 7.0 reads the clock again to check
		// whether the time has already passed, and deletes the key at once
		// when a millisecond boundary falls between the two reads (a CI run
		// saw it with 1 ms)
		return []string{"PEXPIRE", k, "5"}, true
	case 17:
		return []string{"EXPIRE", k, "-1"}, false
	case 18:
		return []string{"PERSIST", k}, false
	case 19:
		return []string{"LPUSH", k, "x"}, false
	case 20:
		return []string{"LPOP", k}, false
	case 21:
		return []string{"SADD", k, "m"}, false
	case 22:
		return []string{"SREM", k, "m"}, false
	case 23:
		return []string{"SUNIONSTORE", k, k2}, false
	case 24:
		return []string{"INCR", k}, false
	case 25:
		return []string{"APPEND", k, "z"}, false
	case 26:
		return []string{"SETRANGE", k, "2", "q"}, false
	case 27:
		return []string{"HSET", k, "f", "1"}, false
	case 28:
		return []string{"HDEL", k, "f"}, false
	case 29:
		return []string{"ZADD", k, "1", "m"}, false
	case 30:
		return []string{"ZPOPMIN", k}, false
	case 31:
		return []string{"LMOVE", k, k2, "LEFT", "RIGHT"}, false
	case 32:
		return []string{"EVAL", "redis.call('del', KEYS[1]); redis.call('set', KEYS[2], 's'); return redis.call('set', KEYS[1], 't')", "2", k, k2}, false
	case 33:
		return []string{"EVAL", "for i = 1, #KEYS do redis.call('setnx', KEYS[i], i) end return #KEYS", "2", k, k2}, false
	case 34:
		return []string{"GETEX", k, "PX", "1"}, true
	case 35:
		return []string{"SORT", k2, "STORE", k}, false
	case 36:
		return []string{"RESTORE", k, "0", "\x00\x01v\n\x00\x91\b\xce\xb2\x198\x8a\xce", "REPLACE"}, false
	case 37:
		return []string{"MSET", k, "1", k2, "2"}, false
	case 38:
		return []string{"SMOVE", k, k2, "m"}, false
	default:
		if r.IntN(6) == 0 {
			return []string{"FLUSHALL"}, false
		}
		return []string{"EXISTS", k}, false
	}
}

func TestClusterSlotIndexRandom(t *testing.T) {
	caddr, srv := startCrescent(t, "cluster-enabled", "yes", "cluster-port", strconv.Itoa(freePort(t)),
		"cluster-node-timeout", "3000", "enable-debug-command", "yes")
	conns := []*rawConn{dialRaw(t, caddr)}
	if difftest.RedisBinary() != "" {
		raddr := startRedis(t, "--cluster-enabled", "yes", "--cluster-port", strconv.Itoa(freePort(t)),
			"--enable-debug-command", "yes")
		conns = append(conns, dialRaw(t, raddr))
	} else {
		t.Log("redis-server not installed: checking against the walk only")
	}
	for _, c := range conns {
		c.mustDo("CLUSTER", "ADDSLOTSRANGE", "0", "16383")
		c.mustDo("DEBUG", "SET-ACTIVE-EXPIRE", "0")
	}
	waitClusterOK(t, caddr, 1)
	for _, c := range conns[1:] {
		deadline := time.Now().Add(10 * time.Second)
		for !strings.Contains(c.mustDo("CLUSTER", "INFO"), "cluster_state:ok") {
			if time.Now().After(deadline) {
				t.Fatal("redis: cluster not ok")
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	st := srv.Exec().Store
	// walk returns Crescent's stored keys of slot (expired ones not yet
	// reclaimed included, as Redis counts them), sorted
	walk := func(slot int) []string {
		var out []string
		st.LockAll()
		st.DB(0, 0).ForEachStored(func(k string, _ keyspace.Entry) bool {
			if cluster.KeySlot([]byte(k)) == slot {
				out = append(out, k)
			}
			return true
		})
		st.UnlockAll()
		slices.Sort(out)
		return out
	}
	r := rand.New(rand.NewPCG(14, 1))
	checks, several := 0, 0 // slots checked, of which with two keys or more
	steps := 1500
	if testing.Short() {
		steps = 300
	}
	for step := 0; step < steps; step++ {
		cmd, expires := slotCmd(r)
		multi := r.IntN(8) == 0
		var cmds [][]string
		if multi {
			cmd2, exp2 := slotCmd(r)
			expires = expires || exp2
			cmds = [][]string{{"MULTI"}, cmd, cmd2, {"EXEC"}}
		} else {
			cmds = [][]string{cmd}
		}
		slots := map[int]bool{}
		for _, c := range cmds {
			for _, a := range c[1:] {
				if strings.HasPrefix(a, "{") || strings.HasPrefix(a, "plain") {
					slots[cluster.KeySlot([]byte(a))] = true
				}
			}
		}
		if cmd[0] == "FLUSHALL" {
			for _, k := range []string{"{a}", "{b}", "{c}", "plain1", "plain2"} {
				slots[cluster.KeySlot([]byte(k))] = true
			}
		}
		var replies []string
		for _, c := range conns {
			var rep []string
			for _, one := range cmds {
				rep = append(rep, c.mustDo(one...))
			}
			replies = append(replies, strings.Join(rep, ""))
		}
		if expires {
			time.Sleep(10 * time.Millisecond) // the key's time passes; active expiry is off
		}
		if len(replies) == 2 && replies[0] != replies[1] {
			t.Fatalf("step %d %q: crescent %q, redis %q", step, cmds, replies[0], replies[1])
		}
		for slot := range slots {
			s := strconv.Itoa(slot)
			want := walk(slot)
			var got []string
			for i, c := range conns {
				cnt := c.mustDo("CLUSTER", "COUNTKEYSINSLOT", s)
				keys := c.mustDo("CLUSTER", "GETKEYSINSLOT", s, "100")
				got = append(got, cnt+keys)
				if i == 0 {
					if cnt != ":"+strconv.Itoa(len(want))+"\r\n" {
						t.Fatalf("step %d %q: slot %d: COUNTKEYSINSLOT %q, walk %q", step, cmds, slot, cnt, want)
					}
					if sorted := slices.Sorted(slices.Values(arrayOf(t, keys))); !slices.Equal(sorted, want) {
						t.Fatalf("step %d %q: slot %d: GETKEYSINSLOT %q, walk %q", step, cmds, slot, sorted, want)
					}
				}
			}
			checks++
			if len(want) >= 2 {
				several++
			}
			if len(got) == 2 && got[0] != got[1] {
				t.Fatalf("step %d %q: slot %d:\n crescent %q\n redis    %q", step, cmds, slot, got[0], got[1])
			}
		}
	}
	// a reload (save, flush, load): the loaded keys are indexed
	for _, k := range []string{"{a}x", "{b}x", "{c}x", "plain1", "plain2"} {
		conns[0].mustDo("SET", k, "before reload")
	}
	if r := conns[0].mustDo("DEBUG", "RELOAD"); r != "+OK\r\n" {
		t.Fatalf("DEBUG RELOAD: %q", r)
	}
	for _, k := range []string{"{a}", "{b}", "{c}", "plain1", "plain2"} {
		slot := cluster.KeySlot([]byte(k))
		s := strconv.Itoa(slot)
		want := walk(slot)
		cnt := conns[0].mustDo("CLUSTER", "COUNTKEYSINSLOT", s)
		keys := slices.Sorted(slices.Values(arrayOf(t, conns[0].mustDo("CLUSTER", "GETKEYSINSLOT", s, "100"))))
		if len(want) == 0 || cnt != ":"+strconv.Itoa(len(want))+"\r\n" || !slices.Equal(keys, want) {
			t.Fatalf("after DEBUG RELOAD: slot %d: count %q keys %q, walk %q", slot, cnt, keys, want)
		}
	}
	t.Logf("%d steps, %d slots checked (%d holding two keys or more), against redis-server too: %v",
		steps, checks, several, len(conns) == 2)
}
