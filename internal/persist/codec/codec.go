// Package codec holds the RDB codecs of lists, hashes, sets, sorted sets
// and streams (rdb.Codec), writing the forms Redis 7.0 writes, byte for
// byte where Redis's own output is deterministic, and loading every form
// Redis 7.0 loads, back to the ziplists and zipmaps of older versions.
package codec

import (
	"math"
	"strconv"

	"github.com/crescent-db/crescent/internal/config"
	"github.com/crescent-db/crescent/internal/persist/rdb"
)

// Limits are the encoding thresholds that decide, like in Redis, the
// encoding of loaded values and how lists are split into nodes.
type Limits struct {
	ListFill    func() int // list-max-listpack-size
	ListDepth   func() int // list-compress-depth
	HashEntries func() int // hash-max-listpack-entries
	HashValue   func() int // hash-max-listpack-value
	SetIntset   func() int // set-max-intset-entries
	ZSetEntries func() int // zset-max-listpack-entries
	ZSetValue   func() int // zset-max-listpack-value
}

// DefaultLimits are Redis 7.0's defaults.
func DefaultLimits() Limits {
	c := func(n int) func() int { return func() int { return n } }
	return Limits{ListFill: c(-2), ListDepth: c(0), HashEntries: c(128), HashValue: c(64),
		SetIntset: c(512), ZSetEntries: c(128), ZSetValue: c(64)}
}

// ConfigLimits reads the limits live from cfg.
func ConfigLimits(cfg *config.Config) Limits {
	v := func(name string) func() int {
		x := cfg.Var(name)
		return func() int { return int(x.Int()) }
	}
	return Limits{ListFill: v("list-max-listpack-size"), ListDepth: v("list-compress-depth"),
		HashEntries: v("hash-max-listpack-entries"), HashValue: v("hash-max-listpack-value"),
		SetIntset:   v("set-max-intset-entries"),
		ZSetEntries: v("zset-max-listpack-entries"), ZSetValue: v("zset-max-listpack-value")}
}

// Register adds the codecs of every non-string type to c.
func Register(c *rdb.Codecs, lim Limits) {
	c.Register(listCodec{lim})
	c.Register(hashCodec{lim})
	c.Register(setCodec{lim})
	c.Register(zsetCodec{lim})
	c.Register(streamCodec{})
}

// batch is how many elements one rewritten command carries, as Redis's
// AOF_REWRITE_ITEMS_PER_CMD.
const batch = 64

// rewriteBatches emits cmd key followed by items, at most n per command.
func rewriteBatches(cmd string, key []byte, items [][]byte, n int) [][][]byte {
	var out [][][]byte
	for len(items) > 0 {
		k := n
		if k > len(items) {
			k = len(items)
		}
		c := make([][]byte, 0, 2+k)
		c = append(c, []byte(cmd), key)
		c = append(c, items[:k]...)
		out = append(out, c)
		items = items[k:]
	}
	return out
}

// appendScore formats a score as Redis's d2string: "inf", "-inf", "nan",
// else "%.17g" (integral values print as integers).
func appendScore(dst []byte, f float64) []byte {
	switch {
	case math.IsInf(f, 1):
		return append(dst, "inf"...)
	case math.IsInf(f, -1):
		return append(dst, "-inf"...)
	case math.IsNaN(f):
		return append(dst, "nan"...)
	}
	return strconv.AppendFloat(dst, f, 'g', 17, 64)
}

// parseScore reads a listpack score as Redis's zzlStrtod.
func parseScore(b []byte) (float64, bool) {
	f, err := strconv.ParseFloat(string(b), 64)
	if err != nil {
		if ne, ok := err.(*strconv.NumError); !ok || ne.Err != strconv.ErrRange {
			return 0, false
		}
	}
	return f, !math.IsNaN(f)
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }
