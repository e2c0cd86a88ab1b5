package exec

import (
	"github.com/crescent-db/crescent/internal/command"
	"github.com/crescent-db/crescent/internal/keyspace"
)

// Prefetcher collects the keys of a pipelined batch for
// keyspace.Store.Prefetch: Add each command the connection already has in
// its input buffer, then Run. It keeps no reference to the arguments
// after Run. The zero value is ready to use.
type Prefetcher struct {
	keys [keyspace.PrefetchMax][]byte
	n    int
	last *command.Spec // the command last looked up: a batch repeats it
}

// Add notes the key of args if args is a keyed command of the client's
// kind that one lookup serves (GET, SET, INCR, HGET...); it reports false
// once the batch is full. Nothing is checked or counted: a command is only
// looked up in the table.
func (p *Prefetcher) Add(e *Executor, args [][]byte) bool {
	if p.n == len(p.keys) {
		return false
	}
	if len(args) < 2 {
		return true
	}
	cmd := p.last
	if cmd == nil || !cmd.Repeats(args) {
		cmd = e.Table.Lookup(args[0])
		p.last = cmd
	}
	if cmd == nil || len(cmd.Subs) != 0 || cmd.Lock != command.LockKeys || !cmd.FirstKeyIs1() {
		return true
	}
	p.keys[p.n] = args[1]
	p.n++
	return true
}

// Run prefetches the keys added since the last Run for the client's
// database, when there are at least minPrefetch of them, and forgets them.
func (p *Prefetcher) Run(e *Executor, cl *command.Client) {
	if p.n >= minPrefetch {
		e.Store.Prefetch(cl.DB, p.keys[:p.n])
	}
	clear(p.keys[:p.n])
	p.n = 0
}

// minPrefetch is the fewest keys worth a Prefetch: one or two commands
// gain little from overlapping their cache misses, and an unpipelined
// client's command would pay for the extra pass alone.
const minPrefetch = 4
