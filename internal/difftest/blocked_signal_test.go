package difftest

import (
	"strings"
	"testing"
)

// TestBlockedTypeSignals checks which changes of a key put it on Redis
// 7.0's ready list for the clients blocked on it. signalKeyAsReady takes a
// value type and queues the key only while some client (on any key, in any
// database) is blocked on that type: dbAdd signals with the added value's
// type, the deletion or overwrite of a stream (dbGenericDelete, dbSetValue,
// an expired or evicted stream, FLUSHDB's and SWAPDB's
// scanDatabaseForDeletedStreams) and XADD with the stream type, SWAPDB's
// scanDatabaseForReadyKeys with the type the key now has. The key is then
// served by the type it has when the command (or MULTI/EXEC) ends: a stream
// overwritten by a sorted set wakes a BZPOPMIN waiting on it only while
// some client waits on a stream, and a list deleted and made a sorted set
// without a signal on the way wakes nobody. In each case the "w" client
// blocks, "a" (when there) blocks on another key for the type that opens
// the gate, then the main connection changes the keys; a later push that
// wakes w for sure shows, in w's reply, whether it was served before.
func TestBlockedTypeSignals(t *testing.T) {
	const (
		streamGate = "@conn a\n@block XREAD BLOCK 0 STREAMS gate $\n"
		streamOpen = "@conn main\nXADD gate 1-1 f v\n@conn a\n@recv\n"
		listGate   = "@conn a\n@block BLPOP gate 0\n"
		listOpen   = "@conn main\nRPUSH gate v\n@conn a\n@recv\n"
		zsetWake   = "@conn main\nZADD late 9 late\n@conn w\n@recv\n"
		listWake   = "@conn main\nRPUSH late late\n@conn w\n@recv\n"
	)
	cases := []struct {
		name string
		text string // corpus lines; w blocks on "late" too, which wakes it at the end
	}{
		{"stream overwritten by ZUNIONSTORE, a stream waiter elsewhere (seed 5160)",
			streamGate + "@conn w\n@block BZPOPMIN late s1 1000\n@conn main\nXADD s1 MAXLEN 0 66-1 f c\nZADD z2 2 1\nZUNIONSTORE s1 1 z2\n" +
				"@conn w\n@recv\n" + streamOpen},
		{"stream overwritten by ZUNIONSTORE, no stream waiter",
			"@conn w\n@block BZPOPMIN late s1 1000\n@conn main\nXADD s1 MAXLEN 0 66-1 f c\nZADD z2 2 1\nZUNIONSTORE s1 1 z2\n" + zsetWake},
		{"stream overwritten by SORT STORE, a stream waiter elsewhere",
			streamGate + "@conn w\n@block BLPOP late s1 0\n@conn main\nXADD s1 1-1 f v\nRPUSH src b a\nSORT src ALPHA STORE s1\n" +
				"@conn w\n@recv\n" + streamOpen},
		{"stream overwritten by SORT STORE, no stream waiter",
			"@conn w\n@block BLPOP late s1 0\n@conn main\nXADD s1 1-1 f v\nRPUSH src b a\nSORT src ALPHA STORE s1\n" + listWake},
		{"stream overwritten by SET then ZUNIONSTORE in MULTI, a stream waiter elsewhere",
			streamGate + "@conn w\n@block BZPOPMIN late k 0\n@conn main\nXADD k 1-1 f v\nZADD z2 2 m\nMULTI\nSET k v\nZUNIONSTORE k 1 z2\nEXEC\n" +
				"@conn w\n@recv\n" + streamOpen},
		{"XADD then SET then ZUNIONSTORE in MULTI, no stream waiter",
			"@conn w\n@block BZPOPMIN late k 0\n@conn main\nZADD z2 2 m\nMULTI\nXADD k 1-1 f v\nSET k v\nZUNIONSTORE k 1 z2\nEXEC\n" + zsetWake},
		{"stream deleted, SET, ZUNIONSTORE in MULTI, a stream waiter elsewhere",
			streamGate + "@conn w\n@block BZPOPMIN late k 0\n@conn main\nXADD k 1-1 f v\nZADD z2 2 m\nMULTI\nDEL k\nSET k v\nZUNIONSTORE k 1 z2\nEXEC\n" +
				"@conn w\n@recv\n" + streamOpen},
		{"stream deleted, SET, ZUNIONSTORE in MULTI, no stream waiter",
			"@conn w\n@block BZPOPMIN late k 0\n@conn main\nXADD k 1-1 f v\nZADD z2 2 m\nMULTI\nDEL k\nSET k v\nZUNIONSTORE k 1 z2\nEXEC\n" + zsetWake},
		{"list deleted, SET, ZUNIONSTORE in MULTI",
			"@conn w\n@block BZPOPMIN late k 0\n@conn main\nRPUSH k x\nZADD z2 2 m\nMULTI\nDEL k\nSET k v\nZUNIONSTORE k 1 z2\nEXEC\n" + zsetWake},
		{"list emptied, SET, ZUNIONSTORE in MULTI",
			"@conn w\n@block BZPOPMIN late k 0\n@conn main\nRPUSH k x\nZADD z2 2 m\nMULTI\nLPOP k\nSET k v\nZUNIONSTORE k 1 z2\nEXEC\n" + zsetWake},
		{"list added then overwritten by ZUNIONSTORE in MULTI, no list waiter",
			"@conn w\n@block BZPOPMIN late k 0\n@conn main\nZADD z2 2 m\nMULTI\nRPUSH k x\nZUNIONSTORE k 1 z2\nEXEC\n" + zsetWake},
		{"list added then overwritten by ZUNIONSTORE in MULTI, a list waiter elsewhere",
			listGate + "@conn w\n@block BZPOPMIN late k 0\n@conn main\nZADD z2 2 m\nMULTI\nRPUSH k x\nZUNIONSTORE k 1 z2\nEXEC\n" +
				"@conn w\n@recv\n" + listOpen},
		{"string added then overwritten by ZUNIONSTORE in MULTI",
			"@conn w\n@block BZPOPMIN late k 0\n@conn main\nZADD z2 2 m\nMULTI\nSET k v\nZUNIONSTORE k 1 z2\nEXEC\n" + zsetWake},
		{"zset added then overwritten by SORT STORE in MULTI, no zset waiter",
			"@conn w\n@block BLPOP late k 0\n@conn main\nRPUSH src b a\nMULTI\nZADD k 1 m\nSORT src ALPHA STORE k\nEXEC\n" + listWake},
		{"list overwritten by ZUNIONSTORE, a list waiter elsewhere",
			listGate + "@conn w\n@block BZPOPMIN late k 0\n@conn main\nRPUSH k x\nZADD z2 2 m\nZUNIONSTORE k 1 z2\n" + zsetWake + listOpen},
		{"stream renamed away, SET, ZUNIONSTORE in MULTI, a stream waiter elsewhere",
			streamGate + "@conn w\n@block BZPOPMIN late k 0\n@conn main\nXADD k 1-1 f v\nZADD z2 2 m\nMULTI\nRENAME k k2\nSET k v\nZUNIONSTORE k 1 z2\nEXEC\n" +
				"@conn w\n@recv\n" + streamOpen},
		{"stream renamed away, SET, ZUNIONSTORE in MULTI, no stream waiter",
			"@conn w\n@block BZPOPMIN late k 0\n@conn main\nXADD k 1-1 f v\nZADD z2 2 m\nMULTI\nRENAME k k2\nSET k v\nZUNIONSTORE k 1 z2\nEXEC\n" + zsetWake},
		{"list renamed away, SET, ZUNIONSTORE in MULTI",
			"@conn w\n@block BZPOPMIN late k 0\n@conn main\nRPUSH k x\nZADD z2 2 m\nMULTI\nRENAME k k2\nSET k v\nZUNIONSTORE k 1 z2\nEXEC\n" + zsetWake},
		{"stream moved away, SET, ZUNIONSTORE in MULTI, a stream waiter elsewhere",
			streamGate + "@conn w\n@block BZPOPMIN late k 0\n@conn main\nXADD k 1-1 f v\nZADD z2 2 m\nMULTI\nMOVE k 1\nSET k v\nZUNIONSTORE k 1 z2\nEXEC\n" +
				"@conn w\n@recv\n" + streamOpen},
		{"stream moved away, SET, ZUNIONSTORE in MULTI, no stream waiter",
			"@conn w\n@block BZPOPMIN late k 0\n@conn main\nXADD k 1-1 f v\nZADD z2 2 m\nMULTI\nMOVE k 1\nSET k v\nZUNIONSTORE k 1 z2\nEXEC\n" + zsetWake},
		{"FLUSHDB of a stream, SET, ZUNIONSTORE in MULTI, a stream waiter elsewhere",
			streamGate + "@conn w\n@block BZPOPMIN late k 0\n@conn main\nXADD k 1-1 f v\nMULTI\nFLUSHDB\nZADD z2 2 m\nSET k v\nZUNIONSTORE k 1 z2\nEXEC\n" +
				"@conn w\n@recv\n" + streamOpen},
		{"FLUSHDB of a stream, SET, ZUNIONSTORE in MULTI, no stream waiter",
			"@conn w\n@block BZPOPMIN late k 0\n@conn main\nXADD k 1-1 f v\nMULTI\nFLUSHDB\nZADD z2 2 m\nSET k v\nZUNIONSTORE k 1 z2\nEXEC\n" + zsetWake},
		{"FLUSHDB of a list, SET, ZUNIONSTORE in MULTI",
			"@conn w\n@block BZPOPMIN late k 0\n@conn main\nRPUSH k x\nMULTI\nFLUSHDB\nZADD z2 2 m\nSET k v\nZUNIONSTORE k 1 z2\nEXEC\n" + zsetWake},
		{"SWAPDB brings a list, ZUNIONSTORE in MULTI, no list waiter",
			"@conn w\n@block BZPOPMIN late k 0\n@conn main\nSELECT 1\nRPUSH k x\nZADD z2 2 m\nSELECT 0\nMULTI\nSWAPDB 0 1\nZUNIONSTORE k 1 z2\nEXEC\n" + zsetWake},
		{"SWAPDB brings a list, ZUNIONSTORE in MULTI, a list waiter elsewhere",
			listGate + "@conn w\n@block BZPOPMIN late k 0\n@conn main\nSELECT 1\nRPUSH k x\nZADD z2 2 m\nSELECT 0\nMULTI\nSWAPDB 0 1\nZUNIONSTORE k 1 z2\nEXEC\n" +
				"@conn w\n@recv\n" + listOpen},
		{"SWAPDB takes a stream away, SET, ZUNIONSTORE in MULTI, a stream waiter elsewhere",
			streamGate + "@conn w\n@block BZPOPMIN late k 0\n@conn main\nXADD k 1-1 f v\nMULTI\nSWAPDB 0 1\nZADD z2 2 m\nSET k v\nZUNIONSTORE k 1 z2\nEXEC\n" +
				"@conn w\n@recv\n" + streamOpen},
		{"SWAPDB takes a stream away, SET, ZUNIONSTORE in MULTI, no stream waiter",
			"@conn w\n@block BZPOPMIN late k 0\n@conn main\nXADD k 1-1 f v\nMULTI\nSWAPDB 0 1\nZADD z2 2 m\nSET k v\nZUNIONSTORE k 1 z2\nEXEC\n" + zsetWake},
		{"expired stream, SET, ZUNIONSTORE in MULTI, a stream waiter elsewhere",
			streamGate + "@conn w\n@block BZPOPMIN late k 0\n@conn main\nDEBUG SET-ACTIVE-EXPIRE 0\nXADD k 1-1 f v\nZADD z2 2 m\nPEXPIRE k 1\n@sleep 20ms\nMULTI\nSET k v\nZUNIONSTORE k 1 z2\nEXEC\nDEBUG SET-ACTIVE-EXPIRE 1\n" +
				"@conn w\n@recv\n" + streamOpen},
		{"expired stream, SET, ZUNIONSTORE in MULTI, no stream waiter",
			"@conn w\n@block BZPOPMIN late k 0\n@conn main\nDEBUG SET-ACTIVE-EXPIRE 0\nXADD k 1-1 f v\nZADD z2 2 m\nPEXPIRE k 1\n@sleep 20ms\nMULTI\nSET k v\nZUNIONSTORE k 1 z2\nEXEC\nDEBUG SET-ACTIVE-EXPIRE 1\n" + zsetWake},
		{"expired list, SET, ZUNIONSTORE in MULTI",
			"@conn w\n@block BZPOPMIN late k 0\n@conn main\nDEBUG SET-ACTIVE-EXPIRE 0\nRPUSH k x\nZADD z2 2 m\nPEXPIRE k 1\n@sleep 20ms\nMULTI\nSET k v\nZUNIONSTORE k 1 z2\nEXEC\nDEBUG SET-ACTIVE-EXPIRE 1\n" + zsetWake},
		{"stream overwritten by SET KEEPTTL, ZUNIONSTORE, a stream waiter elsewhere",
			streamGate + "@conn w\n@block BZPOPMIN late k 0\n@conn main\nXADD k 1-1 f v\nZADD z2 2 m\nMULTI\nSET k v KEEPTTL\nZUNIONSTORE k 1 z2\nEXEC\n" +
				"@conn w\n@recv\n" + streamOpen},
		{"stream overwritten by SETEX, ZUNIONSTORE, no stream waiter",
			"@conn w\n@block BZPOPMIN late k 0\n@conn main\nXADD k 1-1 f v\nZADD z2 2 m\nMULTI\nSETEX k 100 v\nZUNIONSTORE k 1 z2\nEXEC\n" + zsetWake},
		{"stream overwritten by SUNIONSTORE, ZUNIONSTORE, a stream waiter elsewhere",
			streamGate + "@conn w\n@block BZPOPMIN late k 0\n@conn main\nXADD k 1-1 f v\nZADD z2 2 m\nSADD st a\nMULTI\nSUNIONSTORE k st\nZUNIONSTORE k 1 z2\nEXEC\n" +
				"@conn w\n@recv\n" + streamOpen},
		{"stream overwritten by BITOP, ZUNIONSTORE, no stream waiter",
			"@conn w\n@block BZPOPMIN late k 0\n@conn main\nXADD k 1-1 f v\nZADD z2 2 m\nSET b1 x\nMULTI\nBITOP NOT k b1\nZUNIONSTORE k 1 z2\nEXEC\n" + zsetWake},
		{"zset copied over a stream (COPY REPLACE), a stream waiter elsewhere",
			streamGate + "@conn w\n@block BZPOPMIN late k 0\n@conn main\nXADD k 1-1 f v\nZADD z2 2 m\nCOPY z2 k REPLACE\n@conn w\n@recv\n" + streamOpen},
		{"a script overwrites a stream, a stream waiter elsewhere",
			streamGate + "@conn w\n@block BZPOPMIN late k 0\n@conn main\nXADD k 1-1 f v\nZADD z2 2 m\n" +
				"EVAL \"redis.call('set', KEYS[1], 'v'); return redis.call('zunionstore', KEYS[1], 1, KEYS[2])\" 2 k z2\n@conn w\n@recv\n" + streamOpen},
		{"a script overwrites a stream, no stream waiter",
			"@conn w\n@block BZPOPMIN late k 0\n@conn main\nXADD k 1-1 f v\nZADD z2 2 m\n" +
				"EVAL \"redis.call('set', KEYS[1], 'v'); return redis.call('zunionstore', KEYS[1], 1, KEYS[2])\" 2 k z2\n" + zsetWake},
		{"a served BLMOVE pushes to a key whose waiter waits for a sorted set",
			"@conn a\n@block BLMOVE src k LEFT LEFT 0\n@conn w\n@block BZPOPMIN late k 0\n@conn main\nZADD z2 2 m\nRPUSH src x\n@conn a\n@recv\n@conn main\nZUNIONSTORE k 1 z2\n" + zsetWake},
		{"XREADGROUP on a stream overwritten by SET",
			"@conn main\nXGROUP CREATE k g $ MKSTREAM\n@conn w\n@block XREADGROUP GROUP g c BLOCK 0 STREAMS k >\n@conn main\nSET k v\n@conn w\n@recv\n"},
	}
	p := StartPair(t)
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			text := tc.text
			if !strings.HasPrefix(text, "@conn main") {
				text = "@conn main\n" + text
			}
			p.Run(t, tc.name, text)
		})
	}
}
