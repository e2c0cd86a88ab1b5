package commands_test

import (
	"io"
	"log/slog"
	"strings"
	"testing"

	"github.com/crescent-db/crescent/internal/command"
	"github.com/crescent-db/crescent/internal/config"
	"github.com/crescent-db/crescent/internal/keyspace"
	"github.com/crescent-db/crescent/internal/resp"
	"github.com/crescent-db/crescent/internal/server"
)

// resizeCase exercises one collection-writing command (command.FlagResizes).
type resizeCase struct {
	setup [][]string
	cmd   []string
	// same: the command changes nothing the memory estimate counts (a
	// stream's consumers and pending entries), so sizes may stay as they
	// were
	same bool
}

// resizeCases holds a case for every command with FlagResizes:
// TestCollectionWritesRemeasure fails for a command without one.
var resizeCases = map[string]resizeCase{
	// lists
	"lpush":      {setup: [][]string{{"RPUSH", "l", "a"}}, cmd: []string{"LPUSH", "l", "bbbbbbbbbb", "cc"}},
	"rpush":      {setup: [][]string{{"RPUSH", "l", "a"}}, cmd: []string{"RPUSH", "l", "bbbbbbbbbb", "cc"}},
	"lpushx":     {setup: [][]string{{"RPUSH", "l", "a"}}, cmd: []string{"LPUSHX", "l", "bbbbbbbbbb"}},
	"rpushx":     {setup: [][]string{{"RPUSH", "l", "a"}}, cmd: []string{"RPUSHX", "l", "bbbbbbbbbb"}},
	"lpop":       {setup: [][]string{{"RPUSH", "l", "aaaaaaaaaa", "b", "c"}}, cmd: []string{"LPOP", "l"}},
	"rpop":       {setup: [][]string{{"RPUSH", "l", "a", "b", "cccccccccc"}}, cmd: []string{"RPOP", "l", "2"}},
	"linsert":    {setup: [][]string{{"RPUSH", "l", "a", "b"}}, cmd: []string{"LINSERT", "l", "BEFORE", "b", "xxxxxxxxxx"}},
	"lset":       {setup: [][]string{{"RPUSH", "l", "a", "b"}}, cmd: []string{"LSET", "l", "0", "xxxxxxxxxxxxxxxxxxxx"}},
	"lrem":       {setup: [][]string{{"RPUSH", "l", "a", "bbbbbbbbbb", "a"}}, cmd: []string{"LREM", "l", "0", "bbbbbbbbbb"}},
	"ltrim":      {setup: [][]string{{"RPUSH", "l", "aaaaaaaaaa", "b", "c"}}, cmd: []string{"LTRIM", "l", "1", "-1"}},
	"lmove":      {setup: [][]string{{"RPUSH", "l", "a", "bbbbbbbbbb"}, {"RPUSH", "m", "c"}}, cmd: []string{"LMOVE", "l", "m", "RIGHT", "LEFT"}},
	"rpoplpush":  {setup: [][]string{{"RPUSH", "l", "a", "bbbbbbbbbb"}, {"RPUSH", "m", "c"}}, cmd: []string{"RPOPLPUSH", "l", "m"}},
	"lmpop":      {setup: [][]string{{"RPUSH", "l", "aaaaaaaaaa", "b", "c"}}, cmd: []string{"LMPOP", "2", "x", "l", "LEFT"}},
	"blpop":      {setup: [][]string{{"RPUSH", "l", "aaaaaaaaaa", "b", "c"}}, cmd: []string{"BLPOP", "l", "0"}},
	"brpop":      {setup: [][]string{{"RPUSH", "l", "a", "b", "cccccccccc"}}, cmd: []string{"BRPOP", "l", "0"}},
	"blmove":     {setup: [][]string{{"RPUSH", "l", "a", "bbbbbbbbbb"}, {"RPUSH", "m", "c"}}, cmd: []string{"BLMOVE", "l", "m", "RIGHT", "LEFT", "0"}},
	"brpoplpush": {setup: [][]string{{"RPUSH", "l", "a", "bbbbbbbbbb"}, {"RPUSH", "m", "c"}}, cmd: []string{"BRPOPLPUSH", "l", "m", "0"}},
	"blmpop":     {setup: [][]string{{"RPUSH", "l", "aaaaaaaaaa", "b", "c"}}, cmd: []string{"BLMPOP", "0", "1", "l", "LEFT", "COUNT", "2"}},
	// hashes
	"hset":         {setup: [][]string{{"HSET", "h", "f", "v"}}, cmd: []string{"HSET", "h", "f", "vvvvvvvvvv", "g", "w"}},
	"hmset":        {setup: [][]string{{"HSET", "h", "f", "v"}}, cmd: []string{"HMSET", "h", "g", "wwwwwwwwww"}},
	"hsetnx":       {setup: [][]string{{"HSET", "h", "f", "v"}}, cmd: []string{"HSETNX", "h", "g", "wwwwwwwwww"}},
	"hdel":         {setup: [][]string{{"HSET", "h", "f", "v", "g", "wwwwwwwwww"}}, cmd: []string{"HDEL", "h", "g"}},
	"hincrby":      {setup: [][]string{{"HSET", "h", "f", "1"}}, cmd: []string{"HINCRBY", "h", "f", "1000000"}},
	"hincrbyfloat": {setup: [][]string{{"HSET", "h", "f", "1"}}, cmd: []string{"HINCRBYFLOAT", "h", "f", "0.125"}},
	// sets
	"sadd":        {setup: [][]string{{"SADD", "s", "a"}}, cmd: []string{"SADD", "s", "bbbbbbbbbb", "c"}},
	"srem":        {setup: [][]string{{"SADD", "s", "a", "bbbbbbbbbb", "c"}}, cmd: []string{"SREM", "s", "bbbbbbbbbb"}},
	"spop":        {setup: [][]string{{"SADD", "s", "aaaaaaaaaa", "bbbbbbbbbb", "c"}}, cmd: []string{"SPOP", "s", "2"}},
	"smove":       {setup: [][]string{{"SADD", "s", "a", "bbbbbbbbbb"}, {"SADD", "t", "c"}}, cmd: []string{"SMOVE", "s", "t", "bbbbbbbbbb"}},
	"sinterstore": {setup: [][]string{{"SADD", "s", "a", "b"}, {"SADD", "t", "b"}, {"SADD", "d", "xxxxxxxxxx"}}, cmd: []string{"SINTERSTORE", "d", "s", "t"}},
	"sunionstore": {setup: [][]string{{"SADD", "s", "a", "b"}, {"SADD", "t", "c"}}, cmd: []string{"SUNIONSTORE", "d", "s", "t"}},
	"sdiffstore":  {setup: [][]string{{"SADD", "s", "a", "b"}, {"SADD", "t", "b"}}, cmd: []string{"SDIFFSTORE", "s", "s", "t"}},
	// sorted sets
	"zadd":             {setup: [][]string{{"ZADD", "z", "1", "a"}}, cmd: []string{"ZADD", "z", "2", "bbbbbbbbbb"}},
	"zincrby":          {setup: [][]string{{"ZADD", "z", "1", "a"}}, cmd: []string{"ZINCRBY", "z", "2", "bbbbbbbbbb"}},
	"zrem":             {setup: [][]string{{"ZADD", "z", "1", "a", "2", "b"}}, cmd: []string{"ZREM", "z", "a"}},
	"zremrangebylex":   {setup: [][]string{{"ZADD", "z", "0", "a", "0", "b", "0", "c"}}, cmd: []string{"ZREMRANGEBYLEX", "z", "[a", "[b"}},
	"zremrangebyrank":  {setup: [][]string{{"ZADD", "z", "1", "a", "2", "b", "3", "c"}}, cmd: []string{"ZREMRANGEBYRANK", "z", "0", "0"}},
	"zremrangebyscore": {setup: [][]string{{"ZADD", "z", "1", "a", "2", "b", "3", "c"}}, cmd: []string{"ZREMRANGEBYSCORE", "z", "1", "2"}},
	"zpopmin":          {setup: [][]string{{"ZADD", "z", "1", "a", "2", "b"}}, cmd: []string{"ZPOPMIN", "z"}},
	"zpopmax":          {setup: [][]string{{"ZADD", "z", "1", "a", "2", "b"}}, cmd: []string{"ZPOPMAX", "z"}},
	"bzpopmin":         {setup: [][]string{{"ZADD", "z", "1", "a", "2", "b"}}, cmd: []string{"BZPOPMIN", "z", "0"}},
	"bzpopmax":         {setup: [][]string{{"ZADD", "z", "1", "a", "2", "b"}}, cmd: []string{"BZPOPMAX", "z", "0"}},
	"zmpop":            {setup: [][]string{{"ZADD", "z", "1", "a", "2", "b"}}, cmd: []string{"ZMPOP", "1", "z", "MIN"}},
	"bzmpop":           {setup: [][]string{{"ZADD", "z", "1", "a", "2", "b"}}, cmd: []string{"BZMPOP", "0", "1", "z", "MAX"}},
	"zunionstore":      {setup: [][]string{{"ZADD", "z", "1", "a"}, {"ZADD", "y", "2", "b"}}, cmd: []string{"ZUNIONSTORE", "z", "2", "z", "y"}},
	"zinterstore":      {setup: [][]string{{"ZADD", "z", "1", "a", "2", "b"}, {"ZADD", "y", "2", "b"}}, cmd: []string{"ZINTERSTORE", "d", "2", "z", "y"}},
	"zdiffstore":       {setup: [][]string{{"ZADD", "z", "1", "a", "2", "b"}, {"ZADD", "y", "2", "b"}}, cmd: []string{"ZDIFFSTORE", "d", "2", "z", "y"}},
	"zrangestore":      {setup: [][]string{{"ZADD", "z", "1", "a", "2", "b"}}, cmd: []string{"ZRANGESTORE", "d", "z", "0", "-1"}},
	// geo
	"geoadd":            {setup: [][]string{{"GEOADD", "g", "13.361389", "38.115556", "Palermo"}}, cmd: []string{"GEOADD", "g", "15.087269", "37.502669", "Catania"}},
	"georadius":         {setup: [][]string{{"GEOADD", "g", "13.361389", "38.115556", "Palermo", "15.087269", "37.502669", "Catania"}}, cmd: []string{"GEORADIUS", "g", "15", "37", "200", "km", "STORE", "d"}},
	"georadiusbymember": {setup: [][]string{{"GEOADD", "g", "13.361389", "38.115556", "Palermo", "15.087269", "37.502669", "Catania"}}, cmd: []string{"GEORADIUSBYMEMBER", "g", "Palermo", "200", "km", "STOREDIST", "d"}},
	"geosearchstore":    {setup: [][]string{{"GEOADD", "g", "13.361389", "38.115556", "Palermo", "15.087269", "37.502669", "Catania"}}, cmd: []string{"GEOSEARCHSTORE", "d", "g", "FROMLONLAT", "15", "37", "BYRADIUS", "200", "km"}},
	// sort
	"sort": {setup: [][]string{{"RPUSH", "l", "3", "1", "2"}}, cmd: []string{"SORT", "l", "STORE", "l"}, same: true},
	// streams
	"xadd":           {setup: [][]string{{"XADD", "x", "1-1", "f", "v"}}, cmd: []string{"XADD", "x", "2-1", "f", "vvvvvvvvvvvvvvvvvvvv"}},
	"xdel":           {setup: [][]string{{"XADD", "x", "1-1", "f", "v"}, {"XADD", "x", "2-1", "f", "v"}}, cmd: []string{"XDEL", "x", "1-1"}, same: true},
	"xtrim":          {setup: [][]string{{"XADD", "x", "1-1", "f", "v"}, {"XADD", "x", "2-1", "f", "v"}}, cmd: []string{"XTRIM", "x", "MAXLEN", "0"}},
	"xsetid":         {setup: [][]string{{"XADD", "x", "1-1", "f", "v"}}, cmd: []string{"XSETID", "x", "5-0"}, same: true},
	"xgroup|create":  {setup: [][]string{{"XADD", "x", "1-1", "f", "v"}}, cmd: []string{"XGROUP", "CREATE", "x", "g", "0"}},
	"xgroup|destroy": {setup: [][]string{{"XADD", "x", "1-1", "f", "v"}, {"XGROUP", "CREATE", "x", "g", "0"}}, cmd: []string{"XGROUP", "DESTROY", "x", "g"}},
	"xgroup|createconsumer": {setup: [][]string{{"XADD", "x", "1-1", "f", "v"}, {"XGROUP", "CREATE", "x", "g", "0"}},
		cmd: []string{"XGROUP", "CREATECONSUMER", "x", "g", "c"}, same: true},
	"xgroup|delconsumer": {setup: [][]string{{"XADD", "x", "1-1", "f", "v"}, {"XGROUP", "CREATE", "x", "g", "0"}, {"XGROUP", "CREATECONSUMER", "x", "g", "c"}},
		cmd: []string{"XGROUP", "DELCONSUMER", "x", "g", "c"}, same: true},
	"xgroup|setid": {setup: [][]string{{"XADD", "x", "1-1", "f", "v"}, {"XGROUP", "CREATE", "x", "g", "0"}}, cmd: []string{"XGROUP", "SETID", "x", "g", "$"}, same: true},
	"xreadgroup": {setup: [][]string{{"XADD", "x", "1-1", "f", "v"}, {"XGROUP", "CREATE", "x", "g", "0"}},
		cmd: []string{"XREADGROUP", "GROUP", "g", "c", "STREAMS", "x", ">"}, same: true},
	"xack": {setup: [][]string{{"XADD", "x", "1-1", "f", "v"}, {"XGROUP", "CREATE", "x", "g", "0"}, {"XREADGROUP", "GROUP", "g", "c", "STREAMS", "x", ">"}},
		cmd: []string{"XACK", "x", "g", "1-1"}, same: true},
	"xclaim": {setup: [][]string{{"XADD", "x", "1-1", "f", "v"}, {"XGROUP", "CREATE", "x", "g", "0"}, {"XREADGROUP", "GROUP", "g", "c", "STREAMS", "x", ">"}},
		cmd: []string{"XCLAIM", "x", "g", "d", "0", "1-1"}, same: true},
	"xautoclaim": {setup: [][]string{{"XADD", "x", "1-1", "f", "v"}, {"XGROUP", "CREATE", "x", "g", "0"}, {"XREADGROUP", "GROUP", "g", "c", "STREAMS", "x", ">"}},
		cmd: []string{"XAUTOCLAIM", "x", "g", "d", "0", "0"}, same: true},
}

// TestCollectionWritesRemeasure runs every collection-writing command
// (command.FlagResizes), from a client and from a script's redis.call, and
// checks that afterwards each key's accounted size, and used_memory, are
// what a fresh measurement of the values gives: a command whose handler
// reached its value by a path that does not track it for re-measuring
// (keyspace.DB.Track) fails here. A new collection command fails it
// until it has a case in resizeCases.
func TestCollectionWritesRemeasure(t *testing.T) {
	srv, err := server.New(config.New(), slog.New(slog.NewTextHandler(io.Discard, nil)), "")
	if err != nil {
		t.Fatal(err)
	}
	e := srv.Exec()
	cl := command.NewClient(1)
	w := resp.NewWriter()
	do := func(args ...string) string {
		t.Helper()
		bs := make([][]byte, len(args))
		for i, a := range args {
			bs[i] = []byte(a)
		}
		w.Reset()
		e.Execute(cl, bs, w)
		r := string(w.Buf)
		if strings.HasPrefix(r, "-") {
			t.Fatalf("%q: %s", args, r)
		}
		return r
	}
	// sizes returns every key's fresh size, failing where the accounted
	// size differs, and checks used_memory against their total.
	sizes := func(when string) map[string]int64 {
		t.Helper()
		e.Store.LockAll()
		defer e.Store.UnlockAll()
		db := e.Store.DB(0, 0)
		out := map[string]int64{}
		var total int64
		db.ForEach(func(key string, _ keyspace.Entry) bool {
			acc, fresh, _ := db.Measured([]byte(key))
			if acc != fresh {
				t.Errorf("%s: key %q accounted %d bytes, measures %d", when, key, acc, fresh)
			}
			out[key] = fresh
			total += acc
			return true
		})
		if used := e.Store.UsedMemory(); used != total {
			t.Errorf("%s: used memory %d, keys' total %d", when, used, total)
		}
		return out
	}
	var names []string
	noScript := map[string]bool{}
	for _, s := range e.Table.All() {
		specs := append([]*command.Spec{s}, s.Subs...)
		for _, sp := range specs {
			if sp.Has(command.FlagResizes) {
				names = append(names, sp.Name)
				noScript[sp.Name] = sp.Has(command.FlagNoScript)
			}
		}
	}
	if len(names) < 60 {
		t.Fatalf("only %d commands with FlagResizes", len(names))
	}
	const script = "return redis.call(unpack(ARGV))"
	for _, name := range names {
		tc, ok := resizeCases[name]
		if !ok {
			t.Errorf("%s has FlagResizes but no case in resizeCases", name)
			continue
		}
		for _, inScript := range []bool{false, true} {
			if inScript && noScript[name] {
				continue
			}
			do("FLUSHALL")
			for _, s := range tc.setup {
				do(s...)
			}
			before := sizes(name + " setup")
			cmd := tc.cmd
			if inScript {
				cmd = append([]string{"EVAL", script, "0"}, cmd...)
			}
			do(cmd...)
			after := sizes(strings.Join(cmd, " "))
			if !tc.same && equalSizes(before, after) {
				t.Errorf("%q changed no size (%v): the case does not test re-measuring", cmd, after)
			}
		}
	}
}

func equalSizes(a, b map[string]int64) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if w, ok := b[k]; !ok || w != v {
			return false
		}
	}
	return true
}
