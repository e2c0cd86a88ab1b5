package server

import (
	"bytes"
	"fmt"
	"testing"

	"github.com/crescent-db/crescent/internal/cluster"
	"github.com/crescent-db/crescent/internal/command"
	"github.com/crescent-db/crescent/internal/resp"
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

// BenchmarkSetDelCluster is cluster mode's SET of a new key and DEL of it
// (pipelined, 16 keys of distinct slots), with and without the slot→keys
// index (keyspace/slots.go): what the index costs a write that adds or
// removes a key.
func BenchmarkSetDelCluster(b *testing.B) {
	for _, indexed := range []bool{false, true} {
		b.Run(map[bool]string{false: "no-index", true: "index"}[indexed], func(b *testing.B) {
			s := newTestServer(b)
			s.exec.Cluster = newStaticRouter()
			if indexed {
				s.store.IndexSlots(cluster.KeySlot)
			}
			cl := command.NewClient(1)
			w := resp.NewWriter()
			var batch bytes.Buffer
			for _, cmd := range []string{"SET", "DEL"} {
				for i := 0; i < 16; i++ {
					k := fmt.Sprintf("key:%d", i)
					if cmd == "SET" {
						fmt.Fprintf(&batch, "*3\r\n$3\r\nSET\r\n$%d\r\n%s\r\n$5\r\nvalue\r\n", len(k), k)
					} else {
						fmt.Fprintf(&batch, "*2\r\n$3\r\nDEL\r\n$%d\r\n%s\r\n", len(k), k)
					}
				}
			}
			runBatches(b, s, cl, w, batch.Bytes())
		})
	}
}
