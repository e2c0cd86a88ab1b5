package commands

import (
	"strconv"
	"sync/atomic"

	"github.com/crescent-db/crescent/internal/keyspace"
)

// encLimits caches the config directives that choose compact encodings,
// refreshed by CONFIG SET hooks so handlers read them without the config
// lock.
type encLimits struct {
	hashEntries atomic.Int64
	hashValue   atomic.Int64
	setIntset   atomic.Int64
	zsetEntries atomic.Int64
	zsetValue   atomic.Int64
	listFill    atomic.Int64 // list-max-listpack-size, kept by each new list
	listDepth   atomic.Int64 // list-compress-depth, kept by each new list
}

func (h *Handlers) registerTypes() {
	watch := func(name string, dst *atomic.Int64) {
		dst.Store(h.Config.Int(name))
		h.Config.OnChange(name, func(v string) {
			n, _ := strconv.ParseInt(v, 10, 64)
			dst.Store(n)
		})
	}
	watch("hash-max-listpack-entries", &h.enc.hashEntries)
	watch("hash-max-listpack-value", &h.enc.hashValue)
	watch("set-max-intset-entries", &h.enc.setIntset)
	watch("zset-max-listpack-entries", &h.enc.zsetEntries)
	watch("zset-max-listpack-value", &h.enc.zsetValue)
	watch("list-max-listpack-size", &h.enc.listFill)
	watch("list-compress-depth", &h.enc.listDepth)
	h.registerLists()
	h.registerHashes()
	h.registerSets()
}

func (h *Handlers) hashLimits() keyspace.HashLimits {
	return keyspace.HashLimits{Entries: int(h.enc.hashEntries.Load()), Value: int(h.enc.hashValue.Load())}
}

// newList returns an empty list created as Redis's pushes and moves
// create one: with the current list-max-listpack-size and
// list-compress-depth.
func (h *Handlers) newList() *keyspace.List {
	return keyspace.NewListFill(int(h.enc.listFill.Load()), int(h.enc.listDepth.Load()))
}

func (h *Handlers) maxIntset() int { return int(h.enc.setIntset.Load()) }
