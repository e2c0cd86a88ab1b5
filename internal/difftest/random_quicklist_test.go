package difftest

import (
	"math/rand/v2"
	"strconv"
	"strings"
	"testing"
)

// TestRandomQuicklist plays seeded random list edits (pushes at both ends,
// LINSERT next to a pivot, LSET, LREM, LTRIM, pops with counts, LMOVE,
// SORT ... STORE, COPY, DUMP+RESTORE, CONFIG SET list-max-listpack-size
// and list-compress-depth between them) with elements from 1 byte to 9 kB, and compares every
// DUMP payload byte for byte and DEBUG OBJECT's quicklist fields: Redis
// 7.0's node boundaries follow the list's history (quicklist.c's push,
// insert-split-merge and delete rules, each list keeping the fill it was
// created with), and Crescent's layout must follow the same history.
func TestRandomQuicklist(t *testing.T) {
	randomRun{gen: withTx(randomQuicklistCommand), salt: 0x9c11,
		setup: func(t *testing.T, conn *Conn) {
			setConfigFor(t, conn, "list-max-listpack-size", "-2", "list-compress-depth", "0")
		},
		normalize: withTxNorm(normQuicklist)}.run(t)
}

func normQuicklist(args []string, b []byte) []byte {
	if strings.EqualFold(args[0], "DEBUG") {
		return maskDebugObject(b)
	}
	return b
}

// quicklistValue returns an element: small and large integers, short
// words, and strings of 10 to 9000 bytes, from a pool small enough that
// LINSERT, LREM and LPOS find their pivots.
func quicklistValue(rng *rand.Rand) string {
	switch r := rng.IntN(20); {
	case r < 6:
		return [...]string{"0", "1", "7", "12", "-5", "100", "4096", "123456789", "-70000",
			"9223372036854775807", "-9223372036854775808", "0123", "1.5"}[rng.IntN(13)]
	case r < 12:
		return [...]string{"a", "b", "c", "foo", "bar", "hello world"}[rng.IntN(6)]
	case r < 17:
		n := [...]int{10, 30, 60, 63, 64, 100, 250}[rng.IntN(7)]
		return strings.Repeat(string(rune('m'+rng.IntN(3))), n)
	default:
		n := [...]int{500, 1000, 2000, 3000, 4000, 4095, 7000, 8200, 9000}[rng.IntN(9)]
		return strings.Repeat(string(rune('x'+rng.IntN(3))), n)
	}
}

// dumpRestore replaces KEYS[1] by the restore of its own DUMP: the nodes
// come back as they were written, under the current fill.
const dumpRestore = `local d = redis.call('DUMP', KEYS[1])
if d then redis.call('RESTORE', KEYS[1], 0, d, 'REPLACE') end
return d`

func randomQuicklistCommand(rng *rand.Rand) []string {
	pick := func(s ...string) string { return s[rng.IntN(len(s))] }
	key := func() string { return pick("q1", "q1", "q1", "q2", "q2", "q3") }
	idx := func() string { return strconv.Itoa(rng.IntN(41) - 20) }
	switch r := rng.IntN(100); {
	case r < 18:
		cmd := []string{pick("RPUSH", "LPUSH"), key()}
		for n := 1 + rng.IntN(6); n > 0; n-- {
			cmd = append(cmd, quicklistValue(rng))
		}
		return cmd
	case r < 38:
		return []string{"LINSERT", key(), pick("BEFORE", "AFTER"), quicklistValue(rng), quicklistValue(rng)}
	case r < 48:
		return []string{"LSET", key(), idx(), quicklistValue(rng)}
	case r < 54:
		return []string{"LREM", key(), pick("0", "1", "2", "-1", "-2"), quicklistValue(rng)}
	case r < 57:
		return []string{"LTRIM", key(), idx(), idx()}
	case r < 63:
		cmd := []string{pick("LPOP", "RPOP"), key()}
		if rng.IntN(2) == 0 {
			cmd = append(cmd, strconv.Itoa(1+rng.IntN(5)))
		}
		return cmd
	case r < 66:
		return []string{"LMOVE", key(), key(), pick("LEFT", "RIGHT"), pick("LEFT", "RIGHT")}
	case r < 67:
		return []string{"SORT", key(), "BY", "nosort", "STORE", key()}
	case r < 68:
		return []string{"COPY", key(), key(), "REPLACE"}
	case r < 70:
		return []string{"CONFIG", "SET", "list-max-listpack-size",
			pick("-1", "-2", "-2", "-3", "-4", "-5", "0", "1", "2", "3", "4", "8", "16", "100")}
	case r < 71:
		return []string{"CONFIG", "SET", "list-compress-depth", pick("0", "0", "1", "2")}
	case r < 73:
		return []string{"EVAL", dumpRestore, "1", key()}
	case r < 74:
		return []string{"DEL", key()}
	case r < 78:
		return []string{"LRANGE", key(), "0", "-1"}
	case r < 82:
		return []string{"DEBUG", "OBJECT", key()}
	case r < 85:
		// reads that walk the nodes from either end, compressed ones too
		cmd := []string{"LPOS", key(), quicklistValue(rng)}
		for n := rng.IntN(4); n > 0; n-- {
			cmd = append(cmd, pick("RANK", "COUNT", "MAXLEN"), pick("1", "2", "-1", "-2", "0", "3", "50"))
		}
		return cmd
	case r < 87:
		return []string{"LINDEX", key(), idx()}
	case r < 89:
		return []string{"LRANGE", key(), idx(), idx()}
	default:
		return []string{"DUMP", key()}
	}
}
