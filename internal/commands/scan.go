package commands

import (
	"sort"

	"github.com/crescent-db/crescent/internal/command"
	"github.com/crescent-db/crescent/internal/glob"
	"github.com/crescent-db/crescent/internal/keyspace"
)

// Shared parts of HSCAN, SSCAN (and ZSCAN).

// scanOpts are a SCAN-family command's parsed options.
type scanOpts struct {
	count int
	match []byte
	all   bool // no MATCH, or MATCH *
}

func (o *scanOpts) matches(s string) bool {
	return o.all || glob.Match(string(o.match), s, false)
}

// parseScanCursor parses a cursor as Redis's parseScanCursorOrReply,
// writing the error reply when it is invalid.
func parseScanCursor(c *command.Ctx, arg []byte) (uint64, bool) {
	n, ok := parseCursor(arg)
	if !ok {
		c.Error("ERR invalid cursor")
	}
	return n, ok
}

// parseScanOpts parses COUNT and MATCH from args[at:] (TYPE is only for
// SCAN).
func parseScanOpts(c *command.Ctx, at int) (scanOpts, bool) {
	o := scanOpts{count: 10, all: true}
	for i := at; i < len(c.Args); i++ {
		more := i+1 < len(c.Args)
		switch {
		case EqualFold(c.Args[i], "count") && more:
			n, ok := ParseInt(c.Args[i+1])
			if !ok {
				c.Error(ErrNotInt)
				return o, false
			}
			if n < 1 {
				c.Error(ErrSyntax)
				return o, false
			}
			o.count = int(min(n, 1<<30))
			i++
		case EqualFold(c.Args[i], "match") && more:
			o.match = c.Args[i+1]
			o.all = string(o.match) == "*"
			i++
		default:
			c.Error(ErrSyntax)
			return o, false
		}
	}
	return o, true
}

// emptyScan writes the reply of a scan of a missing key.
func emptyScan(c *command.Ctx) {
	c.W.Array(2)
	c.W.BulkString("0")
	c.W.Array(0)
}

// scanSelect returns the indexes of the elements, among n named by
// name(i), that one HSCAN/SSCAN/ZSCAN call returns, and the next cursor:
// a small encoding (listpack, intset) whole with cursor 0, as Redis does,
// else a hashedScan page; then only those MATCH keeps.
func scanSelect(small bool, n int, name func(i int) string, cursor uint64, o scanOpts) ([]int, uint64) {
	var idx []int
	next := uint64(0)
	if small {
		idx = make([]int, n)
		for i := range idx {
			idx[i] = i
		}
	} else {
		idx, next = hashedScan(n, name, cursor, o.count)
	}
	j := 0
	for _, i := range idx {
		if o.matches(name(i)) {
			idx[j] = i
			j++
		}
	}
	return idx[:j], next
}

// hashedScan selects, from n elements named by name(i), up to about count
// whose keyspace.ScanPos is >= cursor, in position order. It returns their
// indexes and the next cursor (0 when done). Elements sharing a position
// are returned together, so an element present for the whole scan is never
// missed, whatever is added or removed meanwhile.
func hashedScan(n int, name func(i int) string, cursor uint64, count int) ([]int, uint64) {
	type item struct {
		pos uint64
		i   int
	}
	items := make([]item, 0, min(n, 4*count+16))
	for i := 0; i < n; i++ {
		p := keyspace.ScanPos(name(i))
		if p >= cursor {
			items = append(items, item{p, i})
		}
	}
	sort.Slice(items, func(a, b int) bool { return items[a].pos < items[b].pos })
	var out []int
	for k, it := range items {
		out = append(out, it.i)
		if len(out) >= count && (k+1 == len(items) || items[k+1].pos != it.pos) {
			if k+1 == len(items) {
				return out, 0
			}
			return out, it.pos + 1
		}
	}
	return out, 0
}
