package difftest

import (
	"net"
	"strconv"
	"testing"
)

// TestSuiteNetworking compares Redis's networking.tcl cases that apply to
// 7.0: CONFIG SET port to a free port (the server then answers there), to
// a port in use (refused, the server still on its port), and CONFIG SET
// bind to an address that cannot be bound.
func TestSuiteNetworking(t *testing.T) {
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	busyPort := strconv.Itoa(busy.Addr().(*net.TCPAddr).Port)
	var out [2][]string
	for i, start := range []func(testing.TB, ...string) *Server{StartRedis, StartCrescent} {
		s := start(t)
		c := Connect(t, s.Addr)
		free := strconv.Itoa(FreePort(t))
		got := []string{string(c.MustDo(t, "CONFIG", "SET", "port", free))}
		c2 := Connect(t, net.JoinHostPort("127.0.0.1", free))
		got = append(got, string(c2.MustDo(t, "PING")))
		got = append(got, string(c2.MustDo(t, "CONFIG", "SET", "port", busyPort)))
		got = append(got, string(c2.MustDo(t, "CONFIG", "SET", "bind", "999.999.999.999")))
		c3 := Connect(t, net.JoinHostPort("127.0.0.1", free))
		got = append(got, string(c3.MustDo(t, "PING")))
		cfg := string(c3.MustDo(t, "CONFIG", "GET", "port"))
		got = append(got, strconv.FormatBool(cfg == "*2\r\n$4\r\nport\r\n$"+strconv.Itoa(len(free))+"\r\n"+free+"\r\n"))
		got = append(got, string(c3.MustDo(t, "CONFIG", "GET", "bind")))
		out[i] = got
	}
	for j := range out[0] {
		if j >= len(out[1]) || out[0][j] != out[1][j] {
			t.Errorf("step %d:\n  redis:    %q\n  crescent: %q", j, out[0], out[1])
			break
		}
	}
}
