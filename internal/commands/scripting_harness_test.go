package commands_test

// The scripting tests' view of internal/difftest: an in-process Crescent, a
// real redis-server started by the test, and a raw RESP client that returns
// each reply's exact bytes.

import (
	"testing"
	"time"

	"github.com/crescent-db/crescent/internal/difftest"
	"github.com/crescent-db/crescent/internal/server"
)

// startScriptCrescent runs a Crescent server on a free loopback port and
// returns its address; it stops with the test.
func startScriptCrescent(t testing.TB, args ...string) (string, *server.Server) {
	t.Helper()
	s := difftest.StartCrescent(t, args...)
	return s.Addr, s.Crescent
}

// scriptStartRedis runs a real redis-server for the test, or skips when it
// is not installed.
func scriptStartRedis(t testing.TB, args ...string) string {
	t.Helper()
	return difftest.StartRedis(t, args...).Addr
}

// rawClient sends commands and reads replies as raw RESP bytes.
type rawClient struct{ c *difftest.Conn }

func scriptDial(t testing.TB, addr string) *rawClient {
	t.Helper()
	c := difftest.Connect(t, addr)
	c.Timeout = 30 * time.Second
	return &rawClient{c: c}
}

// do sends args and returns the raw reply.
func (r *rawClient) do(args ...string) (string, error) {
	b, err := r.c.Do(args...)
	return string(b), err
}

func (r *rawClient) send(args ...string) error { return r.c.SendCmd(args...) }

func (r *rawClient) read() (string, error) {
	b, err := r.c.Read()
	return string(b), err
}
