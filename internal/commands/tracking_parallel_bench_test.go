package commands_test

import (
	"fmt"
	"sync/atomic"
	"testing"

	"github.com/crescent-db/crescent/internal/command"
	"github.com/crescent-db/crescent/internal/resp"
)

// BenchmarkTrackingParallel runs GET or SET of keys of the goroutine's
// own from GOMAXPROCS ordinary clients, through the executor, with
// nobody tracking, with one client in CLIENT TRACKING (default mode,
// having read 100 keys nobody else touches), with one BCAST client on a
// prefix the others' keys do not have, and with every client tracking
// ("all": the GETs are then remembered, the SETs invalidate them):
// compare -cpu 1,2. The ordinary clients' commands should cost the same
// in the first three cases (no process-wide lock taken for them).
func BenchmarkTrackingParallel(b *testing.B) {
	for _, mode := range []string{"none", "tracker", "bcast", "all"} {
		for _, cmd := range []string{"GET", "SET"} {
			b.Run(mode+"/"+cmd, func(b *testing.B) {
				benchTrackingParallel(b, mode, cmd)
			})
		}
	}
}

func benchTrackingParallel(b *testing.B, mode, cmd string) {
	srv := newInProcess(b)
	ex := srv.Exec()
	w0 := resp.NewWriter()
	run := func(cl *command.Client, args ...string) {
		w0.Reset()
		ex.Execute(cl, strArgs(args...), w0)
		if len(w0.Buf) > 0 && w0.Buf[0] == '-' {
			b.Fatalf("%v: %s", args, w0.Buf)
		}
	}
	tc := command.NewClient(1 << 20)
	tc.Proto = 3
	switch mode {
	case "tracker":
		run(tc, "CLIENT", "TRACKING", "on")
		for i := 0; i < 100; i++ {
			run(tc, "GET", fmt.Sprintf("cache:%d", i))
		}
	case "bcast":
		run(tc, "CLIENT", "TRACKING", "on", "BCAST", "PREFIX", "cache:")
	}
	var id atomic.Int64
	defer reportCores(b)()
	b.RunParallel(func(pb *testing.PB) {
		g := id.Add(1)
		cl := command.NewClient(g + 1)
		w := resp.NewWriter()
		if mode == "all" {
			cl.Proto = 3
			ex.Execute(cl, strArgs("CLIENT", "TRACKING", "on"), w)
		}
		var argv [64][][]byte
		for k := range argv {
			key := fmt.Sprintf("k:%d:%d", g, k)
			if cmd == "SET" {
				argv[k] = strArgs("SET", key, "v")
			} else {
				argv[k] = strArgs("GET", key)
			}
		}
		for i := 0; pb.Next(); i++ {
			w.Reset()
			ex.Execute(cl, argv[i&63], w)
		}
	})
}
