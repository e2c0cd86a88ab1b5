//go:build linux

package server_test

import (
	"bufio"
	"fmt"
	"net"
	"runtime"
	"sync/atomic"
	"testing"
	"time"

	"github.com/crescent-db/crescent/internal/server"
)

// TestLoopStalledBatchIsStolen: a worker that stops right after it took
// a batch of ready connections (a hook stands for the kernel preempting
// it) does not hold them up: the other worker serves them while it is
// stopped. Without stealing no worker would ever hear of them again
// (edge-triggered epoll reported them to the stopped one).
func TestLoopStalledBatchIsStolen(t *testing.T) {
	if runtime.GOMAXPROCS(0) < 2 {
		t.Skip("needs two loop workers")
	}
	var fired atomic.Bool
	blocked, release := make(chan struct{}), make(chan struct{})
	defer close(release)
	hook := func(n int) {
		if n >= 2 && fired.CompareAndSwap(false, true) {
			close(blocked)
			<-release // the owner stalls with n unserved events
		}
	}
	addr, s := startCrescentWith(t, func(s *server.Server) { s.SetLoopHooks(1, 0, hook) },
		"event-loop", "yes", "event-loops", "2")
	const clients = 16
	conns := make([]net.Conn, clients)
	rds := make([]*bufio.Reader, clients)
	for i := range conns {
		nc, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		defer nc.Close()
		conns[i], rds[i] = nc, bufio.NewReader(nc)
	}
	// Other clients keep the other worker coming back from the netpoller,
	// as a loaded server's would.
	kick, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer kick.Close()
	go func() {
		<-blocked
		krd := bufio.NewReader(kick)
		for {
			select {
			case <-release:
				return
			case <-time.After(5 * time.Millisecond):
			}
			kick.SetDeadline(time.Now().Add(time.Second))
			if _, err := kick.Write([]byte("PING\r\n")); err != nil {
				return
			}
			if _, err := krd.ReadString('\n'); err != nil {
				return
			}
		}
	}()
	for burst := 0; burst < 2000; burst++ {
		for _, nc := range conns {
			if _, err := nc.Write([]byte("PING\r\n")); err != nil {
				t.Fatal(err)
			}
		}
		for i, rd := range rds {
			conns[i].SetReadDeadline(time.Now().Add(5 * time.Second))
			line, err := rd.ReadString('\n')
			if err != nil || line != "+PONG\r\n" {
				t.Fatalf("burst %d client %d: %q %v (stalled: %v)", burst, i, line, err, fired.Load())
			}
		}
		if fired.Load() {
			// every reply came while the owner of a batch stood still
			if s.LoopSteals() == 0 {
				t.Fatal("served without steals")
			}
			return
		}
	}
	t.Fatal("no batch of two or more connections in 2000 bursts")
}

// TestLoopStealKeepsOrder: pipelined clients, with workers stealing each
// other's batches at once (not only stalled ones; every batch of two or
// more wakes the other worker), get every reply in order.
func TestLoopStealKeepsOrder(t *testing.T) {
	if runtime.GOMAXPROCS(0) < 2 {
		t.Skip("needs two loop workers")
	}
	addr, s := startCrescentWith(t, func(s *server.Server) { s.SetLoopHooks(1, time.Nanosecond, nil) },
		"event-loop", "yes", "event-loops", "2")
	const clients, rounds, depth = 16, 300, 16
	errs := make(chan error, clients)
	for i := 0; i < clients; i++ {
		go func(i int) {
			nc, err := net.Dial("tcp", addr)
			if err != nil {
				errs <- err
				return
			}
			defer nc.Close()
			rd := bufio.NewReader(nc)
			key := fmt.Sprintf("order:%d", i)
			cmd := fmt.Sprintf("*2\r\n$4\r\nINCR\r\n$%d\r\n%s\r\n", len(key), key)
			var batch []byte
			for range depth {
				batch = append(batch, cmd...)
			}
			n := 0
			for r := 0; r < rounds; r++ {
				if _, err := nc.Write(batch); err != nil {
					errs <- err
					return
				}
				nc.SetReadDeadline(time.Now().Add(5 * time.Second))
				for range depth {
					n++
					line, err := rd.ReadString('\n')
					if err != nil || line != fmt.Sprintf(":%d\r\n", n) {
						errs <- fmt.Errorf("client %d: reply %q, want :%d (%v)", i, line, n, err)
						return
					}
				}
			}
			errs <- nil
		}(i)
	}
	for i := 0; i < clients; i++ {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	t.Logf("%d connections stolen", s.LoopSteals())
}
