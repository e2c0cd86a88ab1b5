package commands_test

import (
	"fmt"
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/crescent-db/crescent/internal/command"
	"github.com/crescent-db/crescent/internal/resp"
	"github.com/crescent-db/crescent/internal/server"
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

// trackingBenchSetup prepares a server for the tracking benchmarks: mode
// "tracker" adds a default-mode tracking client that read 100 keys
// cache:N, "bcast" a BCAST client on the prefix cache:.
func trackingBenchSetup(tb testing.TB, mode string) *server.Server {
	srv := newInProcess(tb)
	w := resp.NewWriter()
	run := func(cl *command.Client, args ...string) {
		w.Reset()
		srv.Exec().Execute(cl, strArgs(args...), w)
		if len(w.Buf) > 0 && w.Buf[0] == '-' {
			tb.Fatalf("%v: %s", args, w.Buf)
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
	return srv
}

func benchTrackingParallel(b *testing.B, mode, cmd string) {
	srv := trackingBenchSetup(b, mode)
	ex := srv.Exec()
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

// TestTrackingProbe runs, when CRESCENT_TRACK_PROBE is MODE:CMD:N, N
// GETs or SETs (CMD) of 64 keys from one client on one locked thread,
// beside the tracking client of MODE (trackingBenchSetup's, or "self":
// the client itself tracks, RESP3), for instruction counts: run the test
// binary under valgrind --tool=callgrind with N and with 0 (CGO_ENABLED=0
// GOGC=off GOMAXPROCS=1 GODEBUG=asyncpreemptoff=1) and divide the
// difference by N (docs/design/concurrency.md, "Client tracking off the
// hot path").
func TestTrackingProbe(t *testing.T) {
	spec := strings.Split(os.Getenv("CRESCENT_TRACK_PROBE"), ":")
	if len(spec) != 3 {
		t.Skip("CRESCENT_TRACK_PROBE=MODE:CMD:N not set")
	}
	mode, cmd := spec[0], spec[1]
	n, err := strconv.Atoi(spec[2])
	if err != nil {
		t.Fatal(err)
	}
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	ex := trackingBenchSetup(t, mode).Exec()
	cl := command.NewClient(7)
	w := resp.NewWriter()
	if mode == "self" {
		cl.Proto = 3
		ex.Execute(cl, strArgs("CLIENT", "TRACKING", "on"), w)
	}
	var argv [64][][]byte
	for k := range argv {
		key := fmt.Sprintf("k:%d", k)
		if cmd == "SET" {
			argv[k] = strArgs("SET", key, "v")
		} else {
			argv[k] = strArgs("GET", key)
		}
		ex.Execute(cl, argv[k], w)
	}
	for i := 0; i < n; i++ {
		w.Reset()
		ex.Execute(cl, argv[i&63], w)
	}
}
