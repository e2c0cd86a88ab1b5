package difftest

import (
	"bytes"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/crescent-db/crescent/internal/resp"
)

// Pair is a real Redis and a Crescent started for one test.
type Pair struct {
	Redis, Crescent *Server
}

// StartPair starts both servers with the same extra arguments (skipping the
// test when redis-server is absent).
func StartPair(t testing.TB, args ...string) *Pair {
	t.Helper()
	r := StartRedis(t, args...)
	c := StartCrescent(t, args...)
	return &Pair{Redis: r, Crescent: c}
}

// RunCorpusDir runs every corpus file matching pattern (e.g.
// "testdata/*.txt") as a subtest named after the file, each against its own
// fresh connections of one shared pair of servers.
func RunCorpusDir(t *testing.T, pattern string, args ...string) {
	t.Helper()
	files, err := filepath.Glob(pattern)
	if err != nil {
		t.Fatal(err)
	}
	if len(files) == 0 {
		t.Fatalf("difftest: no corpus files match %s", pattern)
	}
	p := StartPair(t, args...)
	for _, f := range files {
		f := f
		t.Run(strings.TrimSuffix(filepath.Base(f), filepath.Ext(f)), func(t *testing.T) {
			p.RunFile(t, f)
		})
	}
}

// RunCorpus runs one corpus file against a fresh pair of servers.
func RunCorpus(t *testing.T, file string, args ...string) {
	t.Helper()
	StartPair(t, args...).RunFile(t, file)
}

// RunFile runs the corpus file at path against p.
func (p *Pair) RunFile(t *testing.T, path string) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	p.Run(t, filepath.Base(path), string(data))
}

type connPair struct {
	r, c       *Conn
	rid, cid   string // CLIENT ID on each server, read by the first @block
	pending    bool   // an @block is waiting for its @recv
	pendingCmd string
}

// Run runs corpus text (see the package doc for the format) against p.
// name labels failures.
func (p *Pair) Run(t *testing.T, name, text string) {
	t.Helper()
	conns := map[string]*connPair{}
	var all []*Conn
	defer func() {
		for _, c := range all {
			c.Close()
		}
	}()
	get := func(n string) (*connPair, error) {
		if cp := conns[n]; cp != nil {
			return cp, nil
		}
		r, err := DialAddr(p.Redis.Addr)
		if err != nil {
			return nil, err
		}
		all = append(all, r)
		c, err := DialAddr(p.Crescent.Addr)
		if err != nil {
			return nil, err
		}
		all = append(all, c)
		// Some corpus lines make redis-server build strings of tens of MB
		// (about 1 s on a quiet machine): on a loaded CI machine they took
		// past the default 10 s, so a corpus reply may take 30 s.
		r.Timeout, c.Timeout = 30*time.Second, 30*time.Second
		cp := &connPair{r: r, c: c}
		conns[n] = cp
		return cp, nil
	}
	cur, err := get("main")
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	both := func(args ...[]byte) ([]byte, []byte, error) {
		rr, err := cur.r.DoArgs(args...)
		if err != nil {
			return nil, nil, fmt.Errorf("redis: %w", err)
		}
		cr, err := cur.c.DoArgs(args...)
		if err != nil {
			return rr, nil, fmt.Errorf("crescent: %w", err)
		}
		return rr, cr, nil
	}
	if _, _, err := both([]byte("FLUSHALL")); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	skipping := false
	for i, raw := range strings.Split(text, "\n") {
		lineNo := i + 1
		line := strings.TrimSpace(raw)
		if line == "" {
			skipping = false
			continue
		}
		if skipping || line[0] == '#' {
			continue
		}
		where := fmt.Sprintf("%s:%d", name, lineNo)
		mode := ""
		if line[0] == '@' {
			word, rest, _ := strings.Cut(line, " ")
			rest = strings.TrimSpace(rest)
			switch word {
			case "@flush":
				if _, _, err := both([]byte("FLUSHALL")); err != nil {
					t.Fatalf("%s: %v", where, err)
				}
				continue
			case "@sleep":
				d, err := time.ParseDuration(rest)
				if err != nil {
					t.Fatalf("%s: bad @sleep: %v", where, err)
				}
				time.Sleep(d)
				continue
			case "@resp3", "@resp2":
				v := word[5:]
				if _, _, err := both([]byte("HELLO"), []byte(v)); err != nil {
					t.Fatalf("%s: %v", where, err)
				}
				continue
			case "@requires":
				for _, name := range strings.Fields(rest) {
					if p.Crescent.Crescent != nil && p.Crescent.Crescent.Exec().Table.LookupString(name) == nil {
						t.Logf("%s: skipping paragraph: crescent lacks %s", where, name)
						skipping = true
						break
					}
				}
				continue
			case "@block":
				if err := p.corpusBlock(cur, rest); err != nil {
					t.Errorf("%s: %s: %v", where, line, err)
				}
				continue
			case "@recv":
				if !cur.pending {
					t.Fatalf("%s: @recv without a blocked @block", where)
				}
				cur.pending = false
				rr, err := cur.r.Read()
				if err != nil {
					t.Fatalf("%s: @recv (%s): redis: %v", where, cur.pendingCmd, err)
				}
				cr, err := cur.c.Read()
				if err != nil {
					t.Fatalf("%s: @recv (%s): crescent: %v", where, cur.pendingCmd, err)
				}
				if !bytes.Equal(rr, cr) {
					t.Errorf("%s: @recv (%s)\n  redis:    %q\n  crescent: %q", where, cur.pendingCmd, rr, cr)
				}
				continue
			case "@read":
				// one more reply of the current connection (a pub/sub
				// message, a confirmation after the first), sending nothing
				if cur.pending {
					t.Fatalf("%s: @read while an @block waits for its @recv", where)
				}
				rr, err := cur.r.Read()
				if err != nil {
					t.Fatalf("%s: @read: redis: %v", where, err)
				}
				cr, err := cur.c.Read()
				if err != nil {
					t.Fatalf("%s: @read: crescent: %v", where, err)
				}
				same := bytes.Equal(rr, cr)
				if rest == "shape" { // an element of a set Redis answers in its dict's order
					same = Shape(rr) == Shape(cr)
				}
				if !same {
					t.Errorf("%s: @read\n  redis:    %q\n  crescent: %q", where, rr, cr)
				}
				continue
			case "@conn":
				if rest == "" {
					t.Fatalf("%s: @conn needs a name", where)
				}
				if cur, err = get(rest); err != nil {
					t.Fatalf("%s: %v", where, err)
				}
				continue
			case "@shape", "@sorted", "@ignore", "@type", "@scan", "@redis", "@crescent", "@object", "@layout", "@acllog", "@cluster":
				mode = word[1:]
				line = rest
			default:
				t.Fatalf("%s: unknown directive %s", where, word)
			}
		}
		args, err := resp.SplitArgs([]byte(line), nil)
		if err != nil || len(args) == 0 {
			t.Fatalf("%s: cannot parse command %q", where, line)
		}
		switch mode {
		case "redis", "crescent":
			c := cur.r
			if mode == "crescent" {
				c = cur.c
			}
			if _, err := c.DoArgs(args...); err != nil {
				t.Fatalf("%s: %s: %v", where, mode, err)
			}
			continue
		case "scan":
			rr, err := scanAll(cur.r, args)
			if err != nil {
				t.Fatalf("%s: redis: %v", where, err)
			}
			cr, err := scanAll(cur.c, args)
			if err != nil {
				t.Fatalf("%s: crescent: %v", where, err)
			}
			if !bytes.Equal(rr, cr) {
				t.Errorf("%s: %s\n  redis:    %q\n  crescent: %q", where, line, rr, cr)
			}
			continue
		}
		var rr, cr []byte
		if mode == "cluster" { // each server's own node id for <myid>
			rr, cr, err = p.clusterBoth(cur, args)
		} else {
			rr, cr, err = both(args...)
		}
		if err != nil {
			t.Fatalf("%s: %s: %v", where, line, err)
		}
		var same bool
		switch mode {
		case "":
			same = bytes.Equal(rr, cr)
		case "ignore":
			same = true
		case "type":
			same = rr[0] == cr[0]
		case "shape":
			same = Shape(rr) == Shape(cr)
		case "sorted":
			same = bytes.Equal(SortedReply(rr), SortedReply(cr))
		case "object":
			same = bytes.Equal(maskDebugObject(rr), maskDebugObject(cr))
		case "layout":
			same = maskLayout(rr) == maskLayout(cr)
		case "acllog":
			same = maskACLLog(rr) == maskACLLog(cr)
		case "cluster":
			same = bytes.Equal(maskCluster(rr, p.Redis.Addr), maskCluster(cr, p.Crescent.Addr))
		}
		if !same {
			t.Errorf("%s: %s\n  redis:    %q\n  crescent: %q", where, line, rr, cr)
		}
	}
}

// scanAll iterates a SCAN-family command and returns its elements, sorted
// and concatenated.
func scanAll(c *Conn, args [][]byte) ([]byte, error) {
	ci := -1
	for i := 1; i < len(args); i++ {
		if string(args[i]) == "0" {
			ci = i
			break
		}
	}
	if ci < 0 {
		return nil, fmt.Errorf("@scan: no \"0\" cursor argument")
	}
	args = append([][]byte(nil), args...)
	var elems [][]byte
	for iter := 0; ; iter++ {
		if iter > 100000 {
			return nil, fmt.Errorf("@scan: cursor never returned to 0")
		}
		r, err := c.DoArgs(args...)
		if err != nil {
			return nil, err
		}
		v, _, err := Parse(r)
		if err != nil {
			return nil, err
		}
		if v.Type != '*' || len(v.Elems) != 2 || v.Elems[0].Type != '$' {
			return r, nil // an error or odd reply: compare it as is
		}
		for _, e := range v.Elems[1].Elems {
			elems = append(elems, e.Raw)
		}
		cursor := v.Elems[0].Str
		if string(cursor) == "0" {
			break
		}
		args[ci] = append([]byte(nil), cursor...)
	}
	sort.Slice(elems, func(i, j int) bool { return bytes.Compare(elems[i], elems[j]) < 0 })
	return bytes.Join(elems, nil), nil
}

// Value is a parsed RESP reply.
type Value struct {
	Type  byte    // '+', '-', ':', '$', '*', '%', '~', '>', ',', '#', '_', '(', '=', '!', '|'
	Str   []byte  // the line (simple types) or the payload (bulk types)
	Null  bool    // $-1 or *-1
	Elems []Value // aggregate elements (maps: key, value, key, value...)
	Raw   []byte  // the whole encoded reply
}

// Parse parses one reply from b and returns it with the rest of b.
func Parse(b []byte) (Value, []byte, error) {
	nl := bytes.Index(b, []byte("\r\n"))
	if nl < 1 {
		return Value{}, nil, fmt.Errorf("resp: incomplete reply %q", b)
	}
	v := Value{Type: b[0]}
	body := b[1:nl]
	rest := b[nl+2:]
	switch v.Type {
	case '+', '-', ':', ',', '#', '_', '(':
		v.Str = body
	case '$', '=', '!':
		n, err := strconv.Atoi(string(body))
		if err != nil {
			return Value{}, nil, fmt.Errorf("resp: bad length %q", body)
		}
		if n < 0 {
			v.Null = true
			break
		}
		if len(rest) < n+2 {
			return Value{}, nil, fmt.Errorf("resp: short bulk")
		}
		v.Str = rest[:n]
		rest = rest[n+2:]
	case '*', '~', '>', '%', '|':
		n, err := strconv.Atoi(string(body))
		if err != nil {
			return Value{}, nil, fmt.Errorf("resp: bad length %q", body)
		}
		if n < 0 {
			v.Null = true
			break
		}
		if v.Type == '%' || v.Type == '|' {
			n *= 2
		}
		for i := 0; i < n; i++ {
			var e Value
			e, rest, err = Parse(rest)
			if err != nil {
				return Value{}, nil, err
			}
			v.Elems = append(v.Elems, e)
		}
	default:
		return Value{}, nil, fmt.Errorf("resp: unknown type %q", v.Type)
	}
	v.Raw = b[:len(b)-len(rest)]
	return v, rest, nil
}

// Shape describes a reply's RESP types and aggregate lengths, without its
// values: "*2[$,:]" for an array of a bulk string and an integer.
func Shape(raw []byte) string {
	v, _, err := Parse(raw)
	if err != nil {
		return "invalid"
	}
	var b strings.Builder
	shape(&b, v)
	return b.String()
}

func shape(b *strings.Builder, v Value) {
	b.WriteByte(v.Type)
	if v.Null {
		b.WriteString("null")
		return
	}
	switch v.Type {
	case '*', '~', '>', '%', '|':
		fmt.Fprintf(b, "%d[", len(v.Elems))
		for i, e := range v.Elems {
			if i > 0 {
				b.WriteByte(',')
			}
			shape(b, e)
		}
		b.WriteByte(']')
	}
}

// SortedReply returns an aggregate reply with its elements sorted by their
// raw encoding (map replies are sorted by entry); other replies are returned
// as is.
func SortedReply(raw []byte) []byte {
	v, _, err := Parse(raw)
	if err != nil || len(v.Elems) == 0 {
		return raw
	}
	var items [][]byte
	step := 1
	if v.Type == '%' {
		step = 2
	}
	for i := 0; i+step <= len(v.Elems); i += step {
		var it []byte
		for j := 0; j < step; j++ {
			it = append(it, v.Elems[i+j].Raw...)
		}
		items = append(items, it)
	}
	sort.Slice(items, func(i, j int) bool { return bytes.Compare(items[i], items[j]) < 0 })
	hdr := raw[:bytes.Index(raw, []byte("\r\n"))+2]
	return append(append([]byte(nil), hdr...), bytes.Join(items, nil)...)
}

// corpusBlock runs an @block line on cp: the command is sent on both
// servers, and each either answers (compared) or shows the client blocked.
func (p *Pair) corpusBlock(cp *connPair, line string) error {
	if cp.pending {
		return fmt.Errorf("@block while an earlier @block waits for @recv")
	}
	args, err := resp.SplitArgs([]byte(line), nil)
	if err != nil || len(args) == 0 {
		return fmt.Errorf("cannot parse command %q", line)
	}
	strs := make([]string, len(args))
	for i, a := range args {
		strs[i] = string(a)
	}
	type side struct {
		srv  *Server
		conn *Conn
		id   *string
		rep  []byte
		blk  bool
	}
	sides := []*side{{srv: p.Redis, conn: cp.r, id: &cp.rid}, {srv: p.Crescent, conn: cp.c, id: &cp.cid}}
	for _, s := range sides {
		if *s.id == "" {
			v, _, err := Parse(mustRead(s.conn.Do("CLIENT", "ID")))
			if err != nil || v.Type != ':' {
				return fmt.Errorf("%s: CLIENT ID: %v %q", s.srv.Name, err, v.Raw)
			}
			*s.id = string(v.Str)
		}
		ctl, err := DialAddr(s.srv.Addr)
		if err != nil {
			return err
		}
		s.rep, s.blk, err = SendAndWaitBlocked(s.conn, ctl, *s.id, strs...)
		ctl.Close()
		if err != nil {
			return fmt.Errorf("%s: %v", s.srv.Name, err)
		}
	}
	r, c := sides[0], sides[1]
	switch {
	case r.blk && c.blk:
		cp.pending, cp.pendingCmd = true, line
		return nil
	case r.blk != c.blk:
		return fmt.Errorf("blocked on redis %v (reply %q), on crescent %v (reply %q)", r.blk, r.rep, c.blk, c.rep)
	case !bytes.Equal(r.rep, c.rep):
		return fmt.Errorf("\n  redis:    %q\n  crescent: %q", r.rep, c.rep)
	}
	return nil
}

func mustRead(b []byte, err error) []byte {
	if err != nil {
		return []byte(err.Error())
	}
	return b
}

// IsBlocked reports whether CLIENT LIST ID id, asked on ctl, shows that
// client with the b flag (parked in a blocking command).
func IsBlocked(ctl *Conn, id string) (bool, error) {
	rep, err := ctl.Do("CLIENT", "LIST", "ID", id)
	if err != nil {
		return false, err
	}
	v, _, err := Parse(rep)
	if err != nil {
		return false, err
	}
	if v.Type != '$' && v.Type != '=' && v.Type != '+' {
		return false, fmt.Errorf("CLIENT LIST ID %s: %q", id, rep)
	}
	for _, f := range strings.Fields(string(v.Str)) {
		if flags, ok := strings.CutPrefix(f, "flags="); ok {
			return strings.Contains(flags, "b"), nil
		}
	}
	return false, fmt.Errorf("CLIENT LIST ID %s: no flags in %q", id, rep)
}

// SendAndWaitBlocked sends args on conn (whose CLIENT ID is id) and waits,
// without relying on timing, until either its reply arrives (returned) or
// CLIENT LIST on ctl shows the client blocked (blocked true; the reply is
// left to read later). It gives up after 10 s.
func SendAndWaitBlocked(conn, ctl *Conn, id string, args ...string) (reply []byte, blocked bool, err error) {
	if err := conn.SendCmd(args...); err != nil {
		return nil, false, err
	}
	deadline := time.Now().Add(10 * time.Second)
	for wait := 100 * time.Microsecond; time.Now().Before(deadline); wait = min(2*wait, 5*time.Millisecond) {
		conn.nc.SetReadDeadline(time.Now().Add(wait))
		if _, err := conn.rd.Peek(1); err == nil {
			rep, err := conn.Read()
			return rep, false, err
		} else if ne, ok := err.(net.Error); !ok || !ne.Timeout() {
			return nil, false, err
		}
		blk, err := IsBlocked(ctl, id)
		if err != nil {
			return nil, false, err
		}
		if blk {
			return nil, true, nil
		}
	}
	return nil, false, fmt.Errorf("%q: no reply and not blocked after 10s", args)
}

// debugObjectVolatile matches what DEBUG OBJECT shows that differs between
// any two servers: the value's address and its access clock.
var debugObjectVolatile = regexp.MustCompile(`Value at:0x[0-9a-f]+|lru:[0-9]+ lru_seconds_idle:[0-9]+`)

// aclLogVolatile names the ACL LOG entry fields that differ between any two
// servers: times, and the client's address, id, age and memory figures.
var aclLogVolatile = map[string]bool{"age-seconds": true, "timestamp-created": true, "timestamp-last-updated": true}

// clientInfoKept are the client-info fields of an ACL LOG entry that are
// compared (the rest are addresses, ids, ages and memory figures).
var clientInfoKept = regexp.MustCompile(`(?:^| )(?:name|db|flags|multi|cmd|user|resp)=[^ ]*`)

// maskACLLog renders an ACL LOG reply (RESP2 or RESP3) with its volatile
// fields blanked and its client-info cut down to the fields that do not
// vary (the @acllog directive). Other replies are returned as they are.
func maskACLLog(b []byte) string {
	v, _, err := Parse(b)
	if err != nil || (v.Type != '*' && v.Type != '~') {
		return string(b)
	}
	var out strings.Builder
	fmt.Fprintf(&out, "%c%d[", v.Type, len(v.Elems))
	for _, e := range v.Elems {
		out.WriteString("{")
		for i := 0; i+1 < len(e.Elems); i += 2 {
			k, val := string(e.Elems[i].Str), e.Elems[i+1]
			switch {
			case aclLogVolatile[k]:
				fmt.Fprintf(&out, "%s=%c<volatile>;", k, val.Type)
			case k == "client-info":
				fmt.Fprintf(&out, "%s=%q;", k, strings.Join(clientInfoKept.FindAllString(string(val.Str), -1), ""))
			default:
				fmt.Fprintf(&out, "%s=%q;", k, val.Raw)
			}
		}
		out.WriteString("}")
	}
	out.WriteString("]")
	return out.String()
}

// layoutNumber is a number with the spaces before it (right-aligned
// columns), masked by @layout.
var layoutNumber = regexp.MustCompile(` *[0-9]+(\.[0-9]+)?`)

// maskLayout is a reply describing memory layout with its figures masked
// and its consecutive repeated lines kept once (the @layout directive):
// its form, what Redis and Crescent can have in common.
func maskLayout(b []byte) string {
	lines := strings.Split(string(layoutNumber.ReplaceAll(b, []byte("#"))), "\n")
	var out []string
	for i, l := range lines {
		if i == 0 || l != lines[i-1] {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}

// maskDebugObject blanks the volatile fields of a DEBUG OBJECT reply
// (the @object directive).
func maskDebugObject(b []byte) []byte {
	return debugObjectVolatile.ReplaceAll(b, []byte("<volatile>"))
}

// clusterBoth runs args on both servers of cp (the @cluster directive),
// each with the argument <myid> replaced by that server's CLUSTER MYID.
func (p *Pair) clusterBoth(cp *connPair, args [][]byte) (rr, cr []byte, err error) {
	run := func(c *Conn) ([]byte, error) {
		a := args
		for i, x := range args {
			if string(x) != "<myid>" {
				continue
			}
			id, err := c.Do("CLUSTER", "MYID")
			if err != nil {
				return nil, err
			}
			v, _, err := Parse(id)
			if err != nil {
				return nil, err
			}
			a = append([][]byte(nil), args...)
			a[i] = []byte(v.Str)
		}
		return c.DoArgs(a...)
	}
	if rr, err = run(cp.r); err != nil {
		return nil, nil, fmt.Errorf("redis: %w", err)
	}
	if cr, err = run(cp.c); err != nil {
		return rr, nil, fmt.Errorf("crescent: %w", err)
	}
	return rr, cr, nil
}

var (
	clusterNodeID = regexp.MustCompile(`[0-9a-f]{40}`)
	clusterBus    = regexp.MustCompile(`@[0-9]+`)
	clusterMillis = regexp.MustCompile(`\b[0-9]{13}\b`)
	clusterLength = regexp.MustCompile(`\$[0-9]+\r\n`)
)

// maskCluster blanks what differs between two single-node clusters in a
// reply (the @cluster directive): node ids, the server's port (in "ip:port"
// and as a RESP integer), bus ports, millisecond times (CLUSTER NODES's
// ping and pong, CLUSTER LINKS's create-time) and bulk lengths (which
// those change).
func maskCluster(b []byte, addr string) []byte {
	port := addr[strings.LastIndexByte(addr, ':')+1:]
	b = clusterNodeID.ReplaceAll(b, []byte("<id>"))
	b = clusterBus.ReplaceAll(b, []byte("@<bus>"))
	b = bytes.ReplaceAll(b, []byte(":"+port+"@"), []byte(":<port>@"))
	b = bytes.ReplaceAll(b, []byte(":"+port+"\r\n"), []byte(":<port>\r\n"))
	b = clusterMillis.ReplaceAll(b, []byte("<ms>"))
	return clusterLength.ReplaceAll(b, []byte("$<n>\r\n"))
}
