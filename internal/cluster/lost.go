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
	// replicaOf: the master this node lost its last slot to, to replicate
	// (lastSlotTakenBy; "" none), and the slots whose keys it deletes if
	// it cannot (replicaKeys)
	replicaOf   string
	replicaKeys []int
	// owned: while the node is unsettled, the slots it owned in any view
	// since the last compared (base included); non-nil: the next
	// comparison is a settling one (settledLost)
	owned []bool
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
// log it had at startup) views are not compared one by one: a joining
// node replays its new group's history, and a restarted one its own,
// whose intermediate states must not count. The slots it owned in them
// are noted, from the view before (a joining node's own, alone) or the
// first one then (a restarted node's restored configuration), and the
// first view once settled is compared with them (settledLost): what a
// join or the log replayed took is lost then, as Redis's node loses it to
// a claim of a higher epoch.
func (n *Local) checkLost(v *View) {
	n.lost.mu.Lock()
	defer n.lost.mu.Unlock()
	n.checkLostLocked(v)
}

// checkLostLocked is checkLost with n.lost.mu held.
func (n *Local) checkLostLocked(v *View) {
	base := n.lost.base
	if base == nil {
		n.lost.base = v
	}
	if n.unsettled.Load() {
		if n.lost.owned == nil {
			n.lost.owned = make([]bool, Slots)
			if base != nil {
				markOwned(n.lost.owned, base)
			}
		}
		markOwned(n.lost.owned, v)
		return
	}
	if base == nil || v == base || n.lost.fn == nil {
		return // the first view, compared already (settle), or nobody told yet
	}
	var l LostSlots
	if owned := n.lost.owned; owned != nil {
		l = settledLost(owned, v)
	} else {
		l = lostSlots(base, v)
	}
	n.lost.base, n.lost.owned = v, nil
	if t := lastSlotTakenBy(l, v, !n.noMigrate.Load()); t != "" {
		// follow proposes it; the node keeps its keys for now: as in
		// Redis, the resync from the new master replaces them, and the
		// node's replicas and AOF get no DEL for them
		n.lost.replicaOf, n.lost.replicaKeys = t, l.Keys
		l.Keys = nil
	}
	if len(l.Channels) > 0 || len(l.Keys) > 0 {
		n.lost.fn(l)
	}
}

// markOwned sets owned[s] for the slots v's node owns in v.
func markOwned(owned []bool, v *View) {
	if v.Myself == nil {
		return
	}
	for s, o := range v.owner {
		if o == v.Myself {
			owned[s] = true
		}
	}
}

// settle compares the current view once the node is settled (a join
// completed outside a log entry's publication).
func (n *Local) settle() {
	n.lost.mu.Lock()
	defer n.lost.mu.Unlock()
	if v := n.View(); v != nil {
		n.checkLostLocked(v)
	}
}

// resetLost forgets the last view compared: the next one is the base (a
// restart's restored configuration).
func (n *Local) resetLost() {
	n.lost.mu.Lock()
	n.lost.base, n.lost.owned = nil, nil
	n.lost.mu.Unlock()
}

// settledLost is what a node lost when it settles (after a join or the
// replay of its log) in cur, the first view then; owned are the slots it
// owned in the views before (from the last one compared). Channels: every
// slot neither this node nor its master owns in cur, and that it does not
// import (its subscribers may have subscribed in any of the views in
// between); Keys, for a master: the slots it owned that another node owns
// in cur, not imported here (a slot lost and gained again in between is
// not lost, as a running node deletes nothing for it then either).
func settledLost(owned []bool, cur *View) LostSlots {
	var l LostSlots
	me := cur.Myself
	if me == nil {
		return l
	}
	for s, o := range cur.owner {
		if cur.importing[s] != nil || (o != nil && (o.ID == me.ID || o.ID == me.Master)) {
			continue
		}
		l.Channels = append(l.Channels, s)
		if o != nil && owned[s] && me.Master == "" {
			l.Keys = append(l.Keys, s)
		}
	}
	return l
}

// takeReplicaOf returns (and forgets) the master this node should become
// a replica of, having lost its last slot to it ("" none), and the slots
// lost to it.
func (n *Local) takeReplicaOf() (string, []int) {
	n.lost.mu.Lock()
	defer n.lost.mu.Unlock()
	t, keys := n.lost.replicaOf, n.lost.replicaKeys
	n.lost.replicaOf, n.lost.replicaKeys = "", nil
	return t, keys
}

// notReplica is what a master that lost its last slot does when it could
// not become the new owner's replica (OpReplicate refused: a slot was
// assigned to it meanwhile): it deletes its keys of the lost slots, as a
// master that keeps others.
func (n *Local) notReplica(keys []int) {
	if v := n.View(); v == nil || v.Myself == nil || v.Myself.Master != "" || len(keys) == 0 {
		return // a replica after all (an error hid the commit): the resync replaces the data
	}
	n.lost.mu.Lock()
	defer n.lost.mu.Unlock()
	if n.lost.fn != nil {
		n.lost.fn(LostSlots{Keys: keys})
	}
}

// lastSlotTakenBy is Redis 7.0's clusterUpdateSlotsConfigWith ending
// ("Configuration change detected. Reconfiguring myself as a replica of
// ..."): a master that another master took slots from (l.Keys) and that
// is left without slots becomes that master's replica (the owner of the
// last slot taken, as Redis's last sender), with
// cluster-allow-replica-migration (allow), or when the new owner serves
// only the slots it took from this node. It returns the new master's id
// ("" none).
func lastSlotTakenBy(l LostSlots, cur *View, allow bool) string {
	me := cur.Myself
	if len(l.Keys) == 0 || me == nil || me.Master != "" || cur.State.ownsSlots(me.ID) {
		return ""
	}
	t := cur.owner[l.Keys[len(l.Keys)-1]]
	if t == nil || t.Master != "" {
		return ""
	}
	if !allow {
		taken := 0
		for _, s := range l.Keys {
			if o := cur.owner[s]; o != nil && o.ID == t.ID {
				taken++
			}
		}
		if taken != len(cur.State.SlotsOf(t.ID)) {
			return ""
		}
	}
	return t.ID
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
