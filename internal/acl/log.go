package acl

import (
	"crypto/rand"
	"encoding/hex"
)

// LogEntry is one ACL LOG record.
type LogEntry struct {
	Count      int64
	Reason     Reason
	Context    string // toplevel, multi, lua, module
	Object     string
	Username   string
	Created    int64 // Unix ms of the latest occurrence
	ClientInfo string
}

// logGroupMs is how close in time two equal denials must be to be counted
// as one entry.
const logGroupMs = 60000

// AddLog records a denial. Like Redis, it folds it into one of the ten
// newest entries when reason, context, object and user match within a
// minute, moving that entry to the head.
func (r *Registry) AddLog(e LogEntry) {
	if r.Now != nil && e.Created == 0 {
		e.Created = r.Now()
	}
	r.logMu.Lock()
	defer r.logMu.Unlock()
	for i := 0; i < len(r.log) && i < 10; i++ {
		c := r.log[i]
		d := c.Created - e.Created
		if d < 0 {
			d = -d
		}
		if c.Reason == e.Reason && c.Context == e.Context && d <= logGroupMs &&
			c.Object == e.Object && c.Username == e.Username {
			c.Count++
			c.Created = e.Created
			c.ClientInfo = e.ClientInfo
			copy(r.log[1:i+1], r.log[:i])
			r.log[0] = c
			return
		}
	}
	e.Count = 1
	r.log = append(r.log, nil)
	copy(r.log[1:], r.log)
	r.log[0] = &e
	max := 128
	if r.LogMax != nil {
		max = r.LogMax()
	}
	if max < 0 {
		max = 0
	}
	if len(r.log) > max {
		r.log = r.log[:max]
	}
}

// Log returns up to count entries, newest first.
func (r *Registry) Log(count int) []LogEntry {
	r.logMu.Lock()
	defer r.logMu.Unlock()
	if count > len(r.log) {
		count = len(r.log)
	}
	out := make([]LogEntry, count)
	for i := range out {
		out[i] = *r.log[i]
	}
	return out
}

// ResetLog empties the log.
func (r *Registry) ResetLog() {
	r.logMu.Lock()
	r.log = nil
	r.logMu.Unlock()
}

// GenPass returns a random password of bits bits as (bits+3)/4 hex digits.
func GenPass(bits int) string {
	n := (bits + 3) / 4
	b := make([]byte, (n+1)/2)
	rand.Read(b)
	return hex.EncodeToString(b)[:n]
}
