package cluster

import "sync"

// Slots a node's shard stops serving (docs/design/cluster.md, "Slots
// lost"). Redis 7.0 removes the shard channels of a slot from the nodes of
// the shard that served it when the slot is deleted or moves away
// (clusterDelSlot's removeChannelsInSlot: the old owner and its replicas,
// not a replica promoted in its place), and a master that another node's
// claim takes a slot from deletes the keys it still holds of it
// (clusterUpdateSlotsConfigWith's dirty slots, delKeysInSlot) unless the
// change makes it a replica. Here every published view is compared with
// the last one acted on, and the server is told (SetOnLost).

// LostSlots is what a change of the configuration took from this node's
// shard, each list ascending.
type LostSlots struct {
	// Channels are the slots whose shard channels this node's
	// subscribers leave: slots this node or its master owned and that are
	// now unassigned or owned by another node than this one.
	Channels []int
	// Keys are the slots whose keys this node deletes: slots it owned
	// that another node owns now, while it is still a master.
	Keys []int
}

// lostState is the view the node last compared (lostSlots).
type lostState struct {
	mu   sync.Mutex
	base *View // nil: none yet (the next view becomes it)
	fn   func(LostSlots)
}

// SetOnLost sets what the server does when this node's shard loses slots
// (called after the view showing it is published, on the goroutine that
// published it, with no lock of the node held other than its own: it
// must not wait for the cluster).
func (n *Local) SetOnLost(f func(LostSlots)) {
	n.lost.mu.Lock()
	n.lost.fn = f
	n.lost.mu.Unlock()
}

// checkLost compares v with the last view compared and reports what was
// lost. While the node is not settled (joining a group, or replaying the
// log it had at startup) views are taken as they come without a
// comparison: a joining node replays its new group's history, and a
// restarted one its own, whose intermediate states must not count.
func (n *Local) checkLost(v *View) {
	n.lost.mu.Lock()
	defer n.lost.mu.Unlock()
	base := n.lost.base
	n.lost.base = v
	if base == nil || n.lost.fn == nil || n.unsettled.Load() {
		return
	}
	if l := lostSlots(base, v); len(l.Channels) > 0 || len(l.Keys) > 0 {
		n.lost.fn(l)
	}
}

// lostSlots is what this node's shard lost from view old to view cur.
func lostSlots(old, cur *View) LostSlots {
	var l LostSlots
	me := old.Myself
	if me == nil {
		return l
	}
	master := cur.Myself != nil && cur.Myself.Master == ""
	for s := range old.owner {
		o := old.owner[s]
		if o == nil || (o.ID != me.ID && o.ID != me.Master) {
			continue // not this shard's
		}
		nw := cur.owner[s]
		if nw != nil && (nw.ID == o.ID || nw.Myself) {
			continue // kept, or taken over by this node (a promoted replica)
		}
		l.Channels = append(l.Channels, s)
		if nw != nil && o.ID == me.ID && master {
			l.Keys = append(l.Keys, s)
		}
	}
	return l
}
