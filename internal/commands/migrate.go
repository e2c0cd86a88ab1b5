package commands

// MIGRATE host port key|"" destination-db timeout [COPY] [REPLACE]
// [AUTH password] [AUTH2 username password] [KEYS key [key ...]], as Redis
// 7.0's migrateCommand: the keys travel as RESTORE commands carrying DUMP
// payloads, sent with AUTH and SELECT in one write to the target's cached
// connection (migrate_cache.go: kept 10 s, SELECT only when the database
// changes, a failed cached connection retried once on a new one). Keys the
// target acknowledged are
// deleted here unless COPY is given, and the command propagates as DEL of
// those keys.

import (
	"bufio"
	"errors"
	"net"
	"os"
	"strconv"
	"syscall"
	"time"

	"github.com/crescent-db/crescent/internal/command"
	"github.com/crescent-db/crescent/internal/keyspace"
	"github.com/crescent-db/crescent/internal/resp"
)

const (
	errMigrateKeysOption = "ERR When using MIGRATE KEYS option, the key argument must be set to the empty string"
	errMigrateConnect    = "IOERR error or timeout connecting to the client"
	// migrateLineMax is the size of Redis's reply line buffers: longer
	// reply lines are cut.
	migrateLineMax = 1024
	// migrateChunk is how much Redis writes per timed write.
	migrateChunk = 64 * 1024
)

// migrateGetKeys finds MIGRATE's keys as Redis 7.0 does: from its key
// specs (the key at 3) unless the KEYS keyword is found searching back
// from the next-to-last argument (its spec is incomplete); then Redis's
// migrateGetKeys scans forward for KEYS, skipping the values of AUTH and
// AUTH2, and takes every argument after it (none when the key at 3 is not
// empty).
func migrateGetKeys(args [][]byte) []int {
	if len(args) < 4 {
		return nil
	}
	found := false
	for i := len(args) - 2; i >= 1; i-- {
		if EqualFold(args[i], "keys") {
			found = true
			break
		}
	}
	first, num := 3, 1
	for i := 6; found && i < len(args); i++ {
		a := args[i]
		if EqualFold(a, "keys") {
			if len(args[3]) > 0 {
				return nil
			}
			first, num = i+1, len(args)-i-1
			break
		}
		switch {
		case EqualFold(a, "auth"):
			i++
		case EqualFold(a, "auth2"):
			i += 2
		}
	}
	out := make([]int, num)
	for i := range out {
		out[i] = first + i
	}
	return out
}

// migrateOpts are MIGRATE's parsed arguments.
type migrateOpts struct {
	asking             bool // cluster mode: RESTORE-ASKING (the target imports the slot)
	addr               string
	db                 int64
	timeout            time.Duration
	copy, replace      bool
	username, password []byte
	auth               bool
	keys               [][]byte
}

func parseMigrate(c *command.Ctx) (*migrateOpts, bool) {
	o := &migrateOpts{keys: c.Args[3:4]}
	for j := 6; j < len(c.Args); j++ {
		more := len(c.Args) - 1 - j
		a := c.Args[j]
		switch {
		case EqualFold(a, "copy"):
			o.copy = true
		case EqualFold(a, "replace"):
			o.replace = true
		case EqualFold(a, "auth"):
			if more < 1 {
				c.Error(ErrSyntax)
				return nil, false
			}
			j++
			o.password, o.auth = c.Args[j], true
			redact(c, j)
		case EqualFold(a, "auth2"):
			if more < 2 {
				c.Error(ErrSyntax)
				return nil, false
			}
			o.username, o.password, o.auth = c.Args[j+1], c.Args[j+2], true
			redact(c, j+1)
			redact(c, j+2)
			j += 2
		case EqualFold(a, "keys"):
			if len(c.Args[3]) != 0 {
				c.Error(errMigrateKeysOption)
				return nil, false
			}
			o.keys = c.Args[j+1:]
			j = len(c.Args)
		default:
			c.Error(ErrSyntax)
			return nil, false
		}
	}
	timeout, ok := ParseInt(c.Args[5])
	if !ok {
		c.Error(ErrNotInt)
		return nil, false
	}
	if o.db, ok = ParseInt(c.Args[4]); !ok {
		c.Error(ErrNotInt)
		return nil, false
	}
	if timeout <= 0 {
		timeout = 1000
	}
	o.timeout = time.Duration(timeout) * time.Millisecond
	o.addr = net.JoinHostPort(string(c.Args[1]), string(c.Args[2]))
	return o, true
}

// redact hides argument j from MONITOR and SLOWLOG, which show the
// command's arguments after it ran, as Redis's
// redactClientCommandArgument does for MIGRATE's credentials.
func redact(c *command.Ctx, j int) { c.Args[j] = []byte("(redacted)") }

// migrateKey is a key found here, with what is sent for it.
type migrateKey struct {
	key     []byte
	payload []byte
	ttl     int64
}

func (h *Handlers) migrate(c *command.Ctx) {
	o, ok := parseMigrate(c)
	if ok {
		o.asking = h.Cluster != nil
	}
	if !ok {
		return
	}
	var found []migrateKey
	for _, k := range o.keys {
		e, ok := c.DB.Lookup(k)
		if !ok {
			continue
		}
		var ttl int64
		if e.Exp != 0 {
			if ttl = e.Exp - c.Now(); ttl < 0 {
				continue
			}
			ttl = max(ttl, 1)
		}
		p, err := h.Codecs.Dump(e.Value(), h.Config.Bool("rdbcompression"))
		if err != nil {
			c.Error("ERR " + err.Error())
			return
		}
		found = append(found, migrateKey{key: k, payload: p, ttl: ttl})
	}
	if len(found) == 0 {
		c.W.Simple("NOKEY")
		return
	}
	// network round trips: leave the event loop (from a script, the
	// connection that runs it, whose goroutine this is)
	if cl := c.Client; cl != nil {
		if c.InScript && cl.Caller != nil {
			cl = cl.Caller
		}
		if cl.NoWait && cl.Detach != nil {
			cl.Detach()
		}
	}
	var replies [][]byte
	var err error
	var mc *migrateConn
	sel := false
	for try := 0; ; try++ {
		mc, err = h.migrateConns.get(o.addr, o.timeout, time.Now())
		if err != nil {
			err = dialErr(err)
		} else {
			// SELECT when the connection's database is not the target's
			// (a new connection has none: -1, so never for db -1)
			sel = mc.lastDB != o.db
			replies, err = migrateExchange(o, mc, migrateRequest(o, sel, found), len(found), sel)
			if err != nil {
				mc.conn.Close() // a socket error: Redis closes it (a retry connects anew)
				mc = nil
			}
		}
		var ioe *migrateIOError
		if err == nil || try > 0 || !errors.As(err, &ioe) || !ioe.retry {
			break
		}
	}
	if err != nil && replies == nil {
		c.Error(err.Error())
		return
	}
	// replies: [AUTH,] [SELECT,] then the RESTOREs' (as many as were read)
	n := o.preReplies(sel)
	pre, replies := replies[:n], replies[n:]
	var targetErr []byte
	del := [][]byte{[]byte("DEL")}
	for i, r := range replies {
		// an error of AUTH, SELECT or this RESTORE, as Redis checks them
		// for each RESTORE reply: the first one is the reply, and a key
		// whose RESTORE succeeded is deleted even after another failed
		var failed []byte
		for _, l := range pre {
			if len(l) > 0 && l[0] == '-' {
				failed = l
				break
			}
		}
		if failed == nil && len(r) > 0 && r[0] == '-' {
			failed = r
		}
		if failed != nil {
			if targetErr == nil {
				targetErr = failed
			}
			continue
		}
		if o.copy {
			continue
		}
		k := found[i].key
		if c.DB.DeleteLazy(k, keyspace.LazyServerDel) { // dbDelete
			c.Modified(k)
			c.Event('g', "del", k)
			del = append(del, k)
		}
	}
	if len(del) > 1 {
		c.Propagate = [][][]byte{del}
	}
	if mc != nil {
		// the connection stays cached; after an error of the target the
		// next MIGRATE selects its database again
		mc.lastDB = o.db
		if targetErr != nil {
			mc.lastDB = -1
		}
		h.migrateConns.put(o.addr, mc)
	}
	switch {
	case targetErr != nil:
		c.Error("ERR Target instance replied with error: " + string(targetErr[1:]))
	case err != nil:
		c.Error(err.Error())
	default:
		c.W.OK()
	}
}

// preReplies is the number of replies before the RESTOREs'.
func (o *migrateOpts) preReplies(sel bool) int {
	n := 0
	if o.auth {
		n++
	}
	if sel {
		n++
	}
	return n
}

// migrateRequest encodes what MIGRATE sends: [AUTH,] [SELECT,] then one
// RESTORE per key.
func migrateRequest(o *migrateOpts, sel bool, keys []migrateKey) []byte {
	var w resp.Writer
	if o.auth {
		if o.username != nil {
			w.Array(3)
			w.BulkString("AUTH")
			w.Bulk(o.username)
		} else {
			w.Array(2)
			w.BulkString("AUTH")
		}
		w.Bulk(o.password)
	}
	if sel {
		w.Array(2)
		w.BulkString("SELECT")
		w.BulkString(strconv.FormatInt(o.db, 10))
	}
	for _, k := range keys {
		if o.replace {
			w.Array(5)
		} else {
			w.Array(4)
		}
		if o.asking {
			w.BulkString("RESTORE-ASKING")
		} else {
			w.BulkString("RESTORE")
		}
		w.Bulk(k.key)
		w.BulkString(strconv.FormatInt(k.ttl, 10))
		w.Bulk(k.payload)
		if o.replace {
			w.BulkString("REPLACE")
		}
	}
	return w.Buf
}

// migrateIOError is a failure to talk to the target; retry says whether
// Redis would try again on a new connection (not after a timeout, nor
// once a RESTORE was answered).
type migrateIOError struct {
	msg   string
	retry bool
}

func (e *migrateIOError) Error() string { return e.msg }

func ioErr(err error, writing bool, retry bool) *migrateIOError {
	what := "reading"
	if writing {
		what = "writing"
	}
	return &migrateIOError{msg: "IOERR error or timeout " + what + " to target instance",
		retry: retry && !errors.Is(err, os.ErrDeadlineExceeded)}
}

// dialErr maps a failure to connect to MIGRATE's error: a refused
// connection is a (retried) write error, as Redis connects without
// blocking and learns of the refusal when it writes.
func dialErr(err error) error {
	if errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, syscall.ECONNRESET) {
		return ioErr(err, true, true)
	}
	return &migrateIOError{msg: errMigrateConnect}
}

// migrateExchange sends req on mc and reads the reply lines of [AUTH,]
// [SELECT,] (sel) and nkeys RESTOREs, each read and each 64 KiB written
// within o.timeout. On an error after the AUTH and SELECT replies it
// returns the lines read so far with the error.
func migrateExchange(o *migrateOpts, mc *migrateConn, req []byte, nkeys int, sel bool) ([][]byte, error) {
	conn := mc.conn
	for pos := 0; pos < len(req); pos += migrateChunk {
		end := min(pos+migrateChunk, len(req))
		if err := conn.SetWriteDeadline(time.Now().Add(o.timeout)); err != nil {
			return nil, ioErr(err, true, true)
		}
		if _, err := conn.Write(req[pos:end]); err != nil {
			return nil, ioErr(err, true, true)
		}
	}
	rd := mc.rd
	readLine := func() ([]byte, error) {
		if err := conn.SetReadDeadline(time.Now().Add(o.timeout)); err != nil {
			return nil, err
		}
		line, err := rd.ReadSlice('\n')
		if err == bufio.ErrBufferFull {
			// keep what Redis's buffer holds, drop the rest of the line
			line = append([]byte(nil), line...)
			for err == bufio.ErrBufferFull {
				_, err = rd.ReadSlice('\n')
			}
		} else {
			line = append([]byte(nil), line...)
		}
		if err != nil {
			return nil, err
		}
		line = trimCRLF(line)
		if len(line) > migrateLineMax-1 {
			line = line[:migrateLineMax-1]
		}
		return line, nil
	}
	n := o.preReplies(sel)
	var lines [][]byte
	for i := 0; i < n; i++ {
		l, err := readLine()
		if err != nil {
			return nil, ioErr(err, false, true)
		}
		lines = append(lines, l)
	}
	for j := 0; j < nkeys; j++ {
		l, err := readLine()
		if err != nil {
			return lines, ioErr(err, false, j == 0)
		}
		lines = append(lines, l)
	}
	return lines, nil
}

func trimCRLF(b []byte) []byte {
	if n := len(b); n > 0 && b[n-1] == '\n' {
		b = b[:n-1]
		if n := len(b); n > 0 && b[n-1] == '\r' {
			b = b[:n-1]
		}
	}
	return b
}
