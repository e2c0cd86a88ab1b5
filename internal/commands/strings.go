package commands

import (
	"fmt"
	"math"
	"strconv"

	"github.com/crescent-db/crescent/internal/command"
	"github.com/crescent-db/crescent/internal/keyspace"
)

func (h *Handlers) registerStrings() {
	t := h.Table
	t.Handle("get", h.get)
	t.Handle("set", h.set)
}

// getString fetches a string value, writing WRONGTYPE on a type mismatch.
// ok is false when an error was written.
func getString(c *command.Ctx, key []byte) (val []byte, found, ok bool) {
	v, found, err := c.DB.GetString(key)
	if err != nil {
		c.Error(ErrWrongType)
		return nil, true, false
	}
	return v, found, true
}

func (h *Handlers) get(c *command.Ctx) {
	v, found, ok := getString(c, c.Args[1])
	if !ok {
		return
	}
	if !found {
		h.Net.Misses.Add(1)
		c.W.Null()
		return
	}
	h.Net.Hits.Add(1)
	c.W.Bulk(v)
}

// expireArg parses an EX/PX/EXAT/PXAT argument into an absolute Unix ms
// time. cmd names the command for the error text.
func expireArg(c *command.Ctx, unit string, arg []byte, cmd string) (int64, bool) {
	n, ok := ParseInt(arg)
	if !ok {
		c.Error(ErrNotInt)
		return 0, false
	}
	if n <= 0 {
		c.Error(fmt.Sprintf(ErrInvalidExp, cmd))
		return 0, false
	}
	var at int64
	switch unit {
	case "ex":
		if n > math.MaxInt64/1000 {
			c.Error(fmt.Sprintf(ErrInvalidExp, cmd))
			return 0, false
		}
		at = c.Now() + n*1000
	case "px":
		at = c.Now() + n
	case "exat":
		if n > math.MaxInt64/1000 {
			c.Error(fmt.Sprintf(ErrInvalidExp, cmd))
			return 0, false
		}
		at = n * 1000
	case "pxat":
		at = n
	}
	if at <= 0 {
		c.Error(fmt.Sprintf(ErrInvalidExp, cmd))
		return 0, false
	}
	return at, true
}

func (h *Handlers) set(c *command.Ctx) {
	key := c.Args[1]
	var nx, xx, get, keepTTL bool
	unit := ""
	var expArg []byte
	for i := 3; i < len(c.Args); i++ {
		a := c.Args[i]
		switch {
		case EqualFold(a, "nx") && !xx:
			nx = true
		case EqualFold(a, "xx") && !nx:
			xx = true
		case EqualFold(a, "get"):
			get = true
		case EqualFold(a, "keepttl") && unit == "":
			keepTTL = true
		case (EqualFold(a, "ex") || EqualFold(a, "px") || EqualFold(a, "exat") || EqualFold(a, "pxat")) && unit == "" && !keepTTL && i+1 < len(c.Args):
			unit = string(lowerASCII(a))
			expArg = c.Args[i+1]
			i++
		default:
			c.Error(ErrSyntax)
			return
		}
	}
	var exp int64
	if unit != "" {
		var ok bool
		if exp, ok = expireArg(c, unit, expArg, "set"); !ok {
			return
		}
	}
	old, found, err := c.DB.GetString(key)
	if err != nil && get {
		c.Error(ErrWrongType)
		return
	}
	if nx && found || xx && !found {
		if get {
			writeOld(c, old, found)
		} else {
			c.W.Null()
		}
		return
	}
	val := Copy(c.Args[2])
	if keepTTL {
		c.DB.SetKeepTTL(key, val)
	} else {
		c.DB.Set(key, val, exp)
	}
	c.Modified(key)
	c.Event('$', "set", key)
	if exp != 0 {
		c.Event('g', "expire", key)
		// propagate with an absolute time so replay is deterministic
		if unit != "pxat" {
			c.Propagate = [][][]byte{{[]byte("SET"), key, c.Args[2], []byte("PXAT"), []byte(strconv.FormatInt(exp, 10))}}
			if keepTTL {
				c.Propagate[0] = append(c.Propagate[0], []byte("KEEPTTL"))
			}
		}
	}
	if get {
		writeOld(c, old, found)
		return
	}
	c.W.OK()
}

func writeOld(c *command.Ctx, old []byte, found bool) {
	if !found {
		c.W.Null()
	} else {
		c.W.Bulk(old)
	}
}

func lowerASCII(b []byte) []byte {
	out := make([]byte, len(b))
	for i, ch := range b {
		if ch >= 'A' && ch <= 'Z' {
			ch += 'a' - 'A'
		}
		out[i] = ch
	}
	return out
}

var _ = keyspace.ErrWrongType
