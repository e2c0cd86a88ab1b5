package difftest

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestSuiteMaxclients is Redis's limits.tcl, in our words: with
// maxclients 10, connections past the tenth get "max number of clients
// reached" and are closed; both servers accept the same number.
func TestSuiteMaxclients(t *testing.T) {
	p := StartPair(t, "--maxclients", "10")
	run := func(s *Server) (accepted int, refusal string) {
		var conns []*Conn
		defer func() {
			for _, c := range conns {
				c.Close()
			}
		}()
		for i := 0; i < 20; i++ {
			c, err := DialAddr(s.Addr)
			if err != nil {
				t.Fatalf("%s: %v", s.Name, err)
			}
			conns = append(conns, c)
			r, err := c.Do("PING")
			if err != nil || string(r) != "+PONG\r\n" {
				return accepted, string(r)
			}
			accepted++
		}
		return accepted, ""
	}
	ra, rr := run(p.Redis)
	ca, cr := run(p.Crescent)
	if ra != ca || rr != cr {
		t.Errorf("accepted %d, refusal %q; redis: %d, %q", ca, cr, ra, rr)
	}
	if !strings.Contains(rr, "max number of clients reached") {
		t.Errorf("redis refusal %q", rr)
	}
}

// TestSuiteShutdownSaveFails is shutdown.tcl's failed save, in our words:
// with dump.rdb made a directory, SHUTDOWN (and SHUTDOWN SAVE) answer an
// error and the server goes on; SHUTDOWN NOSAVE stops it.
func TestSuiteShutdownSaveFails(t *testing.T) {
	p := StartPair(t, "--save", "3600 1")
	for _, s := range []*Server{p.Redis, p.Crescent} {
		c := Dial(t, s)
		v, _, err := Parse(c.MustDo(t, "CONFIG", "GET", "dir"))
		if err != nil || len(v.Elems) != 2 {
			t.Fatalf("%s: CONFIG GET dir: %v", s.Name, err)
		}
		dir := string(v.Elems[1].Str)
		c.MustDo(t, "SET", "a", "b")
		if err := os.Mkdir(filepath.Join(dir, "dump.rdb"), 0o755); err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, cmd := range []string{"SHUTDOWN", "PING", "SHUTDOWN SAVE", "PING", "SHUTDOWN ABORT"} {
			r, err := c.DoLine(cmd)
			if err != nil {
				t.Fatalf("%s: %s: %v", s.Name, cmd, err)
			}
			got = append(got, string(r))
		}
		want := []string{"-ERR Errors trying to SHUTDOWN. Check logs.\r\n", "+PONG\r\n",
			"-ERR Errors trying to SHUTDOWN. Check logs.\r\n", "+PONG\r\n", "-ERR No shutdown in progress.\r\n"}
		if strings.Join(got, "") != strings.Join(want, "") {
			t.Errorf("%s: %q, want %q", s.Name, got, want)
		}
		if _, err := c.Do("SHUTDOWN", "NOSAVE"); err == nil {
			t.Errorf("%s: SHUTDOWN NOSAVE answered", s.Name)
		}
		c.Close()
		stopped := false
		for i := 0; i < 40 && !stopped; i++ {
			d, err := DialAddr(s.Addr)
			if err != nil {
				stopped = true
				break
			}
			d.Close()
			time.Sleep(50 * time.Millisecond)
		}
		if !stopped {
			t.Errorf("%s: still accepting connections after SHUTDOWN NOSAVE", s.Name)
		}
	}
}
