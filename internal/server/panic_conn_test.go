package server_test

import (
	"strings"
	"testing"

	"github.com/crescent-db/crescent/internal/command"
	"github.com/crescent-db/crescent/internal/server"
)

// TestHandlerPanicConnection is TestHandlerPanic over real connections
// (the event loops' path): the client that sent the panicking command
// gets the internal error and stays connected, another client keeps
// using the same key, and the server keeps serving.
func TestHandlerPanicConnection(t *testing.T) {
	addr, _ := startCrescentWith(t, func(s *server.Server) {
		s.Exec().Table.Handle("append", func(c *command.Ctx) {
			c.W.Array(3)
			panic("lua21 test panic")
		})
	})
	a, b := dialRaw(t, addr), dialRaw(t, addr)
	const ie = "-ERR internal error in 'append' (see the server log)\r\n"
	for _, st := range []struct {
		c          *rawConn
		args       []string
		want       string
		prefixOnly bool
	}{
		{a, []string{"SET", "k", "1"}, "+OK\r\n", false},
		{a, []string{"APPEND", "k", "x"}, ie, false},
		{a, []string{"INCR", "k"}, ":2\r\n", false},
		{b, []string{"INCR", "k"}, ":3\r\n", false},
		{b, []string{"APPEND", "k", "x"}, ie, false},
		{a, []string{"EVAL", "return redis.pcall('append', KEYS[1], 'x')", "1", "k"}, ie, false},
		{b, []string{"EVAL", "return redis.call('append', KEYS[1], 'x')", "1", "k"}, strings.TrimSuffix(ie, "\r\n") + " script: ", true},
		{a, []string{"GET", "k"}, "$1\r\n3\r\n", false},
	} {
		got := st.c.mustDo(st.args...)
		if got != st.want && !(st.prefixOnly && strings.HasPrefix(got, st.want)) {
			t.Errorf("%q: got %q, want %q", st.args, got, st.want)
		}
	}
	if got := a.mustDo("INFO", "stats"); !strings.Contains(got, "\r\ncrescent_handler_panics:4\r\n") {
		t.Errorf("INFO stats has no crescent_handler_panics:4")
	}
}
