package commands

// DEBUG's subcommands about internal structures and test switches, as
// Redis 7.0.15's debug.c: QUICKLIST-PACKED-THRESHOLD, SDSLEN, HTSTATS,
// HTSTATS-KEY, LISTPACK, QUICKLIST, STRUCTSIZE, STRINGMATCH-TEST,
// CLIENT-EVICTION, MALLCTL, MALLCTL-STR, SET-SKIP-CHECKSUM-VALIDATION,
// AOF-FLUSH-SLEEP, LEAK, DROP-CLUSTER-PACKET-FILTER and CLUSTERLINK KILL.
// The replies have Redis's form and errors; where they describe Redis's C
// memory layout (sds headers, dict chains, jemalloc) the figures describe
// Crescent's own structures where they have a counterpart
// (docs/design/fidelity.md, section dbg20, says which).

import (
	"fmt"
	"math/bits"
	"math/rand/v2"
	"os"
	"strings"
	"unsafe"

	"github.com/crescent-db/crescent/internal/command"
	"github.com/crescent-db/crescent/internal/config"
	"github.com/crescent-db/crescent/internal/glob"
	"github.com/crescent-db/crescent/internal/keyspace"
	"github.com/crescent-db/crescent/internal/persist/listpack"
	"github.com/crescent-db/crescent/internal/persist/rdb"
	"github.com/crescent-db/crescent/internal/resp"
)

// debugPackedThreshold is DEBUG QUICKLIST-PACKED-THRESHOLD size: a memory
// value (memtoull) from which list elements get a PLAIN node.
func debugPackedThreshold(c *command.Ctx) {
	sz, ok := config.MemToULL(string(c.Args[2]))
	if !ok || !keyspace.SetPackedThreshold(sz) {
		c.Error("ERR argument must be a memory value bigger than 1 and smaller than 4gb")
		return
	}
	c.W.OK()
}

// debugSDSLen is DEBUG SDSLEN key. Redis reports the key's and the
// value's sds length, free space and allocation; Crescent reports the
// key's length (its record holds it exactly: no spare room, the
// allocation its length) and the value's length, spare capacity and
// capacity (the byte slice APPEND grows in place).
func debugSDSLen(c *command.Ctx) {
	e, ok := c.DB.PeekStored(c.Args[2]) // dictFind: no expiry check
	if !ok {
		c.Error(ErrNoSuchKey)
		return
	}
	v, isStr := e.Str()
	if !isStr || EntryEncoding(e) == "int" {
		c.Error("ERR Not an sds encoded string.")
		return
	}
	k := len(c.Args[2])
	c.W.Simple(fmt.Sprintf("key_sds_len:%d, key_sds_avail:%d, key_zmalloc: %d, val_sds_len:%d, val_sds_avail:%d, val_zmalloc: %d",
		k, 0, k, len(v), cap(v)-len(v), cap(v)))
}

// objectLookup is objectCommandLookupOrReply with the "no such key"
// reply: a logically expired key is missing.
func objectLookup(c *command.Ctx) (keyspace.Entry, bool) {
	e, ok := c.DB.LookupNoTouch(c.Args[2])
	if !ok {
		c.Error(ErrNoSuchKey)
	}
	return e, ok
}

// debugListpack is DEBUG LISTPACK key: the listpack of a listpack-encoded
// value printed on stdout in the form of Redis's lpRepr (Crescent builds
// the listpack's bytes from the elements, as DUMP writes them; an entry's
// "addr" is its offset, Crescent keeping no listpack in memory).
func debugListpack(c *command.Ctx) {
	e, ok := objectLookup(c)
	if !ok {
		return
	}
	if EntryEncoding(e) != "listpack" {
		c.Error("ERR Not a listpack encoded object.")
		return
	}
	var elems [][]byte
	switch v := e.Value().(type) {
	case *keyspace.Hash:
		for i := range v.Len() {
			elems = append(elems, []byte(v.Field(i)), v.Value(i))
		}
	case *keyspace.ZSet:
		for n := v.First(); n != nil; n = n.Next() {
			elems = append(elems, []byte(n.Member), resp.FormatDouble(nil, n.Score))
		}
	}
	var b strings.Builder
	lpRepr(&b, elems)
	os.Stdout.WriteString(b.String())
	c.W.Simple("Listpack structure printed on stdout")
}

// lpRepr writes the listpack of elems as Redis's lpRepr prints one.
func lpRepr(b *strings.Builder, elems [][]byte) {
	total := listpack.Empty
	for _, el := range elems {
		total += listpack.StringSize(el)
	}
	fmt.Fprintf(b, "{total bytes %d} {num entries %d}\n", total, len(elems))
	off := 6 // the header
	var enc []byte
	for i, el := range elems {
		enc = listpack.AppendString(enc[:0], el)
		// the backlen's size: the entry's length before it in 7-bit
		// groups (lpEncodeBacklen)
		back := 1
		for back < 5 && len(enc)-back >= 1<<(7*back)-1 {
			back++
		}
		// an integer's header is its first byte; Redis's lpRepr reads
		// every entry back as a string ("[str]")
		hdr, payload := 1, len(enc)-back-1
		if _, isInt := listpack.ParseInt(el); !isInt {
			hdr, payload = len(enc)-back-len(el), len(el)
		}
		fmt.Fprintf(b, "{\n\taddr: 0x%08x,\n\tindex: %2d,\n\toffset: %1d,\n\thdr+entrylen+backlen: %2d,\n\thdrlen: %3d,\n\tbacklen: %2d,\n\tpayload: %1d\n\tbytes: ",
			off, i, off, len(enc), hdr, back, payload)
		for _, x := range enc {
			fmt.Fprintf(b, "%02x|", x)
		}
		if len(el) > 40 { // Redis prints 40 bytes of a longer one
			fmt.Fprintf(b, "\n\t[str]%s...\n}\n", el[:40])
		} else {
			fmt.Fprintf(b, "\n\t[str]%s\n}\n", el)
		}
		off += len(enc)
	}
	b.WriteString("{end}\n\n")
}

// debugQuicklist is DEBUG QUICKLIST key [full]: the list's quicklist
// layout (the nodes DUMP and the RDB write) printed on stdout in the form
// of Redis's quicklistRepr; full (atoi) non-zero adds each node's
// listpack or plain element. Crescent does not model which nodes Redis
// holds LZF-compressed: every node shows encoding RAW.
func debugQuicklist(c *command.Ctx) {
	e, ok := objectLookup(c)
	if !ok {
		return
	}
	full := 0
	if len(c.Args) == 4 {
		full = command.Atoi(c.Args[3])
	}
	l, isList := e.Value().(*keyspace.List)
	if !isList {
		c.Error("ERR Not a quicklist encoded object.")
		return
	}
	nodes := l.QuicklistNodes()
	var b strings.Builder
	fmt.Fprintf(&b, "{count : %d}\n{len : %d}\n{fill : %d}\n{compress : %d}\n{bookmark_count : 0}\n",
		l.Len(), len(nodes), l.Fill(), l.CompressDepth())
	at := 0
	for i, nd := range nodes {
		container := "PACKED"
		if nd.Plain {
			container = "PLAIN"
		}
		fmt.Fprintf(&b, "{quicklist node(%d)\n{container : %s, encoding: RAW, size: %d, count: %d, recompress: 0, attempted_compress: 0}\n",
			i, container, nd.Size, nd.Count)
		if full != 0 {
			if nd.Plain {
				fmt.Fprintf(&b, "{ entry : %s }\n", l.Index(at))
			} else {
				elems := make([][]byte, nd.Count)
				for j := range elems {
					elems[j] = l.Index(at + j)
				}
				b.WriteString("{ listpack:\n")
				lpRepr(&b, elems)
				b.WriteString("}\n")
			}
			b.WriteString("}\n")
		}
		at += nd.Count
	}
	os.Stdout.WriteString(b.String())
	c.W.Simple("Quicklist structure printed on stdout")
}

// dictSize is the table size Redis's dict reaches holding n elements
// (_dictExpandIfNeeded: 4 at first, doubled when full).
func dictSize(n int) int {
	if n <= 4 {
		return 4
	}
	return 1 << bits.Len(uint(n-1))
}

// dictStats is Redis's dictGetStats for a table of n elements whose
// (64-bit) hashes hashes yields, in the form of 7.0.15's dict.c: the
// elements are folded into dictSize(n) buckets by their hash's low bits,
// as a dict of that size chains them (Crescent's tables are open
// addressing and Go maps: they have no chains of their own).
func dictStats(b *strings.Builder, n int, hashes func(fn func(h uint64))) {
	b.WriteString("Hash table 0 stats (main hash table):\n")
	if n == 0 {
		b.WriteString("No stats available for empty dictionaries\n")
		return
	}
	size := dictSize(n)
	chains := make([]int, size)
	hashes(func(h uint64) { chains[h&uint64(size-1)]++ })
	const vectLen = 50 // DICT_STATS_VECTLEN
	var vec [vectLen]int
	slots, maxChain, total := 0, 0, 0
	for _, l := range chains {
		vec[min(l, vectLen-1)]++
		if l == 0 {
			continue
		}
		slots++
		maxChain = max(maxChain, l)
		total += l
	}
	fmt.Fprintf(b, " table size: %d\n number of elements: %d\n different slots: %d\n max chain length: %d\n avg chain length (counted): %.02f\n avg chain length (computed): %.02f\n Chain length distribution:\n",
		size, n, slots, maxChain, float32(total)/float32(slots), float32(n)/float32(slots))
	for i := 0; i < vectLen-1; i++ {
		if vec[i] == 0 {
			continue
		}
		fmt.Fprintf(b, "   %d: %d (%.02f%%)\n", i, vec[i], float32(vec[i])/float32(size)*100)
	}
}

// debugHTStats is DEBUG HTSTATS dbid: dictStats of the database's keys
// and of its keys with an expiry.
func (h *Handlers) debugHTStats(c *command.Ctx) {
	id, ok := ParseInt(c.Args[2])
	if !ok {
		c.Error(ErrNotInt)
		return
	}
	st := c.DB.Store()
	if id < 0 || id >= int64(st.NumDBs()) {
		c.Error("ERR Out of range database")
		return
	}
	db := st.DB(int(id), c.Now())
	var keys, vol int
	db.ForEachStored(func(_ string, e keyspace.Entry) bool {
		keys++
		if e.Exp != 0 {
			vol++
		}
		return true
	})
	each := func(volatile bool) func(fn func(h uint64)) {
		return func(fn func(h uint64)) {
			db.ForEachStored(func(k string, e keyspace.Entry) bool {
				if !volatile || e.Exp != 0 {
					fn(st.HashString(k))
				}
				return true
			})
		}
	}
	var b strings.Builder
	b.WriteString("[Dictionary HT]\n")
	dictStats(&b, keys, each(false))
	b.WriteString("[Expires HT]\n")
	dictStats(&b, vol, each(true))
	c.W.Verbatim("txt", b.String())
}

// debugHTStatsKey is DEBUG HTSTATS-KEY key: dictStats of a hashtable
// hash or set, or of a skiplist sorted set's dict.
func debugHTStatsKey(c *command.Ctx) {
	e, ok := objectLookup(c)
	if !ok {
		return
	}
	st := c.DB.Store()
	n := 0
	var each func(fn func(h uint64))
	switch v := e.Value().(type) {
	case *keyspace.Hash:
		if v.Encoding() == "hashtable" {
			n = v.Len()
			each = func(fn func(h uint64)) {
				for i := range v.Len() {
					fn(st.HashString(v.Field(i)))
				}
			}
		}
	case *keyspace.Set:
		if v.Encoding() == "hashtable" {
			n = v.Len()
			each = func(fn func(h uint64)) {
				v.ForEachMember(func(m string) bool { fn(st.HashString(m)); return true })
			}
		}
	case *keyspace.ZSet:
		if v.Encoding() == "skiplist" {
			n = v.Len()
			each = func(fn func(h uint64)) {
				for x := v.First(); x != nil; x = x.Next() {
					fn(st.HashString(x.Member))
				}
			}
		}
	}
	if each == nil {
		c.Error("ERR The value stored at the specified key is not represented using an hash table")
		return
	}
	var b strings.Builder
	dictStats(&b, n, each)
	c.W.Verbatim("txt", b.String())
}

// debugStructSize is DEBUG STRUCTSIZE: Redis's list of its core
// structures' sizes, with Crescent's counterparts: a key's Entry for
// robj, a key-table slot for dictentry, and a byte slice's header for
// every sds header (Go strings carry no header of their own).
func debugStructSize(c *command.Ctx) {
	var e keyspace.Entry
	var s []byte
	sl := int(unsafe.Sizeof(s))
	c.W.BulkString(fmt.Sprintf("bits:%d robj:%d dictentry:%d sdshdr5:%d sdshdr8:%d sdshdr16:%d sdshdr32:%d sdshdr64:%d ",
		bits.UintSize, unsafe.Sizeof(e), keyspace.TableSlotSize, sl, sl, sl, sl, sl))
}

// debugStringMatchTest is DEBUG STRINGMATCH-TEST: Redis's
// stringmatchlen_fuzz_test, random patterns against random strings
// through the glob matcher, which must just not crash.
func debugStringMatchTest(c *command.Ctx) {
	r := rand.New(rand.NewPCG(rand.Uint64(), rand.Uint64()))
	var p, s [128]byte
	for range 100000 {
		pl, sl := r.IntN(len(p)), r.IntN(len(s))
		for i := range pl {
			p[i] = byte(r.IntN(256))
		}
		for i := range sl {
			s[i] = byte(r.IntN(256))
		}
		glob.Match(string(p[:pl]), string(s[:sl]), r.IntN(2) == 0)
	}
	c.W.Simple("Apparently Redis did not crash: test passed")
}

// Client memory buckets of Redis 7.0 (server.h).
const (
	clientBucketMinLog = 15
	clientBucketMaxLog = 33
	clientBuckets      = clientBucketMaxLog - clientBucketMinLog + 1
)

// debugClientEviction is DEBUG CLIENT-EVICTION: the clients maxmemory-
// clients may evict (normal and pubsub clients without no-evict), by
// memory bucket (CLIENT LIST's tot-mem), as Redis's buckets.
func (h *Handlers) debugClientEviction(c *command.Ctx) {
	if h.Config.Int("maxmemory-clients") == 0 {
		c.Error("ERR maxmemory-clients is disabled.")
		return
	}
	var mem [clientBuckets]int64
	var count [clientBuckets]int
	for _, cl := range h.allClients() {
		v := cl.ViewFrom(c.Client)
		if v.Flags&command.ClientNoEvict != 0 || !clientOfType(v.Flags, "normal") && !clientOfType(v.Flags, "pubsub") {
			continue
		}
		m := h.Server.ClientMemory(cl.ID, cl == c.Client)
		tot := m.Base + max(m.Cap, m.Qbuf+m.Room, m.Fat) + m.Argv + m.Out
		j := min(max(bits.Len64(uint64(max(tot, 0))), clientBucketMinLog), clientBucketMaxLog) - clientBucketMinLog
		mem[j] += tot
		count[j]++
	}
	var b strings.Builder
	for j := range clientBuckets {
		if j == 0 {
			b.WriteString("bucket          0")
		} else {
			fmt.Fprintf(&b, "bucket %10d", uint64(1)<<(j-1+clientBucketMinLog))
		}
		if j == clientBuckets-1 {
			b.WriteString("+            : ")
		} else {
			fmt.Fprintf(&b, " - %10d: ", uint64(1)<<(j+clientBucketMinLog)-1)
		}
		fmt.Fprintf(&b, "tot-mem: %10d, clients: %d\n", mem[j], count[j])
	}
	c.W.Verbatim("txt", b.String())
}

// debugMallctl is DEBUG MALLCTL key [val] and MALLCTL-STR key [val]:
// jemalloc's mallctl. Crescent's memory is Go's, with no jemalloc: every
// name is unknown (ENOENT, as jemalloc answers an unknown name), after
// MALLCTL's integer argument is checked as Redis checks it.
func debugMallctl(c *command.Ctx, integer bool) {
	if integer && len(c.Args) > 3 {
		if _, ok := ParseInt(c.Args[3]); !ok {
			c.Error(ErrNotInt)
			return
		}
	}
	c.Error("ERR No such file or directory")
}

// debugClusterLink is DEBUG CLUSTERLINK KILL to|from|all node-id. Crescent's
// cluster has no cluster-bus links to a node to kill (its nodes agree
// through Raft): a known node and a valid direction are an OK that does
// nothing; the errors are Redis's.
func (h *Handlers) debugClusterLink(c *command.Ctx) {
	n := h.Cluster
	if n == nil {
		c.Error("ERR Debug option only available for cluster mode enabled setup!")
		return
	}
	if n.View().Node(string(c.Args[4])) == nil {
		c.Error("ERR Unknown node " + string(c.Args[4]))
		return
	}
	if !EqualFold(c.Args[3], "from") && !EqualFold(c.Args[3], "to") && !EqualFold(c.Args[3], "all") {
		// Redis replies the error and then OK as well (debug.c falls through)
		c.Error("ERR Unknown direction " + string(c.Args[3]))
	}
	c.W.OK()
}

// setSkipChecksum is DEBUG SET-SKIP-CHECKSUM-VALIDATION (atoi, as Redis).
func setSkipChecksum(c *command.Ctx) {
	rdb.SkipChecksum.Store(command.Atoi(c.Args[2]) != 0)
	c.W.OK()
}
