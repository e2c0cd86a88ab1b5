package script

import (
	"sync/atomic"

	"github.com/crescent-db/crescent/internal/procid"
)

// Script is a cached EVAL script.
type Script struct {
	Sha   string // lowercase hex sha1 of Body
	Body  string
	Flags Flags
	Fn    Function
	// Stats caches the host's statistics record of the script (the host
	// sets it once; scripts with one sha share one record).
	Stats atomic.Value
}

// Cache holds EVAL scripts by sha1 (SCRIPT LOAD, EVAL, EVALSHA).
type Cache struct {
	// mu is read-locked by every EVALSHA and EVAL, on every core: a
	// per-processor lock (procid.RWMutex), written rarely (a new script,
	// SCRIPT FLUSH).
	mu procid.RWMutex
	m  map[string]*Script
	// body indexes the same scripts by their text: EVAL of a cached
	// script costs a map hash of the body instead of its SHA1, the hex
	// encoding and two allocations. The keys are the scripts' own Body
	// strings, so the index holds no second copy of a text.
	body map[string]*Script
	mem  int64
}

// NewCache returns an empty cache.
func NewCache() *Cache { return &Cache{m: map[string]*Script{}, body: map[string]*Script{}} }

// scriptOverhead approximates Redis's per-script bookkeeping (dict entry,
// sha sds, body robj) so used_memory_scripts_eval grows similarly.
const scriptOverhead = 96

// Get returns the script with the given lowercase sha, or nil.
func (c *Cache) Get(sha string) *Script {
	sl := c.mu.RLock()
	s := c.m[sha]
	c.mu.RUnlock(sl)
	return s
}

// GetSha returns the script whose sha is sha in any case (EVALSHA's
// argument), or nil; it does not allocate.
func (c *Cache) GetSha(sha []byte) *Script {
	if len(sha) != 40 {
		return nil
	}
	// Shas are stored in lower case, as clients send them: a hit needs no
	// case folding.
	sl := c.mu.RLock()
	s := c.m[string(sha)]
	c.mu.RUnlock(sl)
	if s != nil {
		return s
	}
	var lower [40]byte
	for i, ch := range sha {
		if 'A' <= ch && ch <= 'Z' {
			ch += 'a' - 'A'
		}
		lower[i] = ch
	}
	sl = c.mu.RLock()
	s = c.m[string(lower[:])]
	c.mu.RUnlock(sl)
	return s
}

// GetBody returns the script whose text is body (EVAL's argument), or
// nil; it does not allocate. A script found this way is the one Get
// returns for SHA1Hex(body).
func (c *Cache) GetBody(body []byte) *Script {
	sl := c.mu.RLock()
	s := c.body[string(body)]
	c.mu.RUnlock(sl)
	return s
}

// Add stores s unless a script with its sha is present, and returns the
// cached script. s.Sha must be SHA1Hex of s.Body.
func (c *Cache) Add(s *Script) *Script {
	c.mu.Lock()
	defer c.mu.Unlock()
	if old := c.m[s.Sha]; old != nil {
		return old
	}
	c.m[s.Sha] = s
	c.body[s.Body] = s
	c.mem += int64(len(s.Body)+len(s.Sha)) + scriptOverhead
	return s
}

// Flush empties the cache.
func (c *Cache) Flush() {
	c.mu.Lock()
	c.m = map[string]*Script{}
	c.body = map[string]*Script{}
	c.mem = 0
	c.mu.Unlock()
}

// Len is the number of cached scripts.
func (c *Cache) Len() int {
	defer c.mu.RUnlock(c.mu.RLock())
	return len(c.m)
}

// Memory is the memory used by the cached scripts' text and bookkeeping.
func (c *Cache) Memory() int64 {
	defer c.mu.RUnlock(c.mu.RLock())
	return c.mem
}
