package commands

import (
	"github.com/crescent-db/crescent/internal/command"
	"github.com/crescent-db/crescent/internal/keyspace"
)

// readingView switches c to the view a read lookup has inside a write
// command, as Redis's lookupKeyRead there (SET ... GET, GETSET, GETDEL,
// GETEX, the sources of SUNIONSTORE, ZUNIONSTORE, BITOP, PFMERGE, COPY,
// GEOSEARCHSTORE...): the keyspace hit or miss is counted (INFO's
// keyspace_hits and keyspace_misses) and a miss is a "keymiss" event. It
// returns the view to put back once the command's reads are done, before
// it looks up the keys it writes (lookupKeyWrite counts nothing).
func readingView(c *command.Ctx) keyspace.DB {
	saved := c.DB
	c.DB = saved.CountingHits()
	return saved
}
