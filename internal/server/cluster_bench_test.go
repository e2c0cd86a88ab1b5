package server

import (
	"bytes"
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
	cl := command.NewClient(1)
	w := resp.NewWriter()
	s.exec.Execute(cl, [][]byte{[]byte("SET"), []byte("key:1"), []byte("hello world")}, w)
	var batch bytes.Buffer
	for i := 0; i < 16; i++ {
		batch.WriteString("*2\r\n$3\r\nGET\r\n$5\r\nkey:1\r\n")
	}
	rd := resp.NewReader(&loopReader{data: batch.Bytes()}, resp.Limits{})
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		args, err := rd.ReadCommand()
		if err != nil {
			b.Fatal(err)
		}
		s.exec.Execute(cl, args, w)
		if len(w.Buf) > 64*1024 {
			w.Reset()
		}
	}
	if !bytes.Contains(w.Buf, []byte("hello world")) {
		b.Fatalf("no GET reply: %q", w.Buf[:min(len(w.Buf), 100)])
	}
}
