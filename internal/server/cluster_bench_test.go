package server

import (
	"testing"

	"github.com/crescent-db/crescent/internal/cluster"
)

// staticRouter routes with a fixed view whose node owns every slot: the
// cost of cluster mode's slot check without raft around it.
type staticRouter struct{ v *cluster.View }

func (r staticRouter) Routing() (*cluster.View, bool, bool) { return r.v, true, false }

func newStaticRouter() staticRouter {
	const id = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	s := cluster.NewState()
	s.Apply(&cluster.Op{Kind: cluster.OpAddNode, Info: &cluster.NodeInfo{ID: id, IP: "127.0.0.1", Port: 6379}})
	all := make([]int, cluster.Slots)
	for i := range all {
		all[i] = i
	}
	s.Apply(&cluster.Op{Kind: cluster.OpAddSlots, Node: id, Slots: all})
	return staticRouter{cluster.NewView(s, id)}
}

// BenchmarkParseAndGetCluster is BenchmarkParseAndGet in cluster mode
// (the key's slot is checked against the slot map).
func BenchmarkParseAndGetCluster(b *testing.B) {
	s := newTestServer(b)
	s.exec.Cluster = newStaticRouter()
	benchParseAndGet(b, s)
}
