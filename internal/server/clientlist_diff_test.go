package server_test

import (
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"
)

// TestDiffClientListCmd checks CLIENT LIST's cmd= field against Redis:
// the command a client last sent, including one called with the wrong
// arity, "NULL" after an unknown command or subcommand, the queued
// command inside MULTI, and the caller's own "client|list".
func TestDiffClientListCmd(t *testing.T) {
	cases := []struct {
		name string
		raw  string // sent after CLIENT ID, replies drained
	}{
		{"ping", "PING\r\n"},
		{"subcommand", "CONFIG GET port\r\n"},
		{"eval", "EVAL \"return 1\" 0\r\n"},
		{"unknown command", "FOO\r\n"},
		{"unknown subcommand", "CONFIG FOO\r\n"},
		{"wrong arity", "GET a b c\r\n"},
		{"container alone", "CONFIG\r\n"},
		{"subcommand wrong arity", "OBJECT ENCODING k x\r\n"},
		{"queued", "MULTI\r\nSET a b\r\n"},
		{"exec", "MULTI\r\nSET a b\r\nEXEC\r\n"},
		{"subscribed", "SUBSCRIBE ch\r\nPING\r\n"},
	}
	cmdField := regexp.MustCompile(`cmd=(\S+)`)
	run := func(addr string) []string {
		var out []string
		obs := dialRaw(t, addr)
		self := strings.TrimSpace(strings.TrimPrefix(obs.mustDo("CLIENT", "ID"), ":"))
		for _, tc := range cases {
			c := dialRaw(t, addr)
			id := strings.TrimSpace(strings.TrimPrefix(c.mustDo("CLIENT", "ID"), ":"))
			if _, err := c.nc.Write([]byte(tc.raw)); err != nil {
				t.Fatal(err)
			}
			for !strings.HasSuffix(c.read(30*time.Millisecond), "<timeout>") {
			} // every reply drained: every command ran
			m := cmdField.FindStringSubmatch(obs.mustDo("CLIENT", "LIST", "ID", id))
			if m == nil {
				t.Fatalf("%s: no cmd= in CLIENT LIST", tc.name)
			}
			out = append(out, tc.name+": "+m[1])
		}
		m := cmdField.FindStringSubmatch(obs.mustDo("CLIENT", "LIST", "ID", self))
		return append(out, "self: "+m[1])
	}
	crescent, _ := startCrescent(t)
	got := run(crescent)
	want := run(startRedis(t))
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("Crescent %q, Redis %q", got[i], want[i])
		}
	}
}

// TestClientListWhileClientsChange lists clients while others change what
// CLIENT LIST shows of them (db, resp, multi, user, pub/sub): run with
// -race, it fails if the listing reads another connection's live fields.
func TestClientListWhileClientsChange(t *testing.T) {
	addr, _ := startCrescent(t)
	done := make(chan struct{})
	var wg sync.WaitGroup
	for i := 0; i < 3; i++ {
		c := dialRaw(t, addr)
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-done:
					return
				default:
				}
				for _, cmd := range [][]string{{"SELECT", "3"}, {"HELLO", "3"}, {"MULTI"}, {"PING"}, {"EXEC"},
					{"AUTH", "default", "x"}, {"HELLO", "2"}, {"SELECT", "0"}} {
					c.mustDo(cmd...)
				}
			}
		}()
	}
	lister := dialRaw(t, addr)
	for i := 0; i < 200; i++ {
		if r := lister.mustDo("CLIENT", "LIST"); !strings.Contains(r, "cmd=client|list") {
			t.Fatalf("CLIENT LIST: %q", r)
		}
	}
	close(done)
	wg.Wait()
}
