package commands

// Cluster commands of a server with cluster support disabled (Crescent has
// no cluster mode, as Redis with cluster-enabled no): CLUSTER and its
// subcommands, ASKING, READONLY and READWRITE.

import "github.com/crescent-db/crescent/internal/command"

// errClusterDisabled is Redis's reply to cluster commands without cluster
// mode.
const errClusterDisabled = "ERR This instance has cluster support disabled"

func (h *Handlers) registerCluster() {
	t := h.Table
	none := command.WithLock(command.LockNone)
	disabled := func(c *command.Ctx) { c.Error(errClusterDisabled) }
	for _, sub := range t.Find("cluster").Subs {
		t.Handle(sub.Name, disabled, none)
	}
	t.Handle("asking", disabled, none)
	t.Handle("readonly", disabled, none)
	t.Handle("readwrite", disabled, none)
}
