//go:build linux

package server_test

import (
	"strconv"
	"testing"

	"golang.org/x/sys/unix"
)

// TestKeepAliveSocketOptions: a connection's keep-alive options are
// tcp-keepalive's, as Redis sets them (idle N s, interval N/3 s, 3 probes),
// and none with tcp-keepalive 0, also after it moved from an event loop to
// a goroutine (CLIENT LIST, an admin command, moves it): net.FileConn
// turned the runtime's default keep-alive (15 s) on for the moved socket,
// even with tcp-keepalive 0, and this test failed so. The server's socket
// is found by CLIENT LIST's fd in this process.
func TestKeepAliveSocketOptions(t *testing.T) {
	for _, tc := range []struct {
		ka                 string
		on, idle, intvl, n int
	}{
		{"60", 1, 60, 20, 3},
		{"0", 0, -1, -1, -1},
	} {
		t.Run("tcp-keepalive "+tc.ka, func(t *testing.T) {
			addr, _ := startCrescent(t, "tcp-keepalive", tc.ka)
			c := dialRaw(t, addr)
			c.mustDo("CLIENT", "SETNAME", "ka")
			fd := int(clientFields(t, c.mustDo("CLIENT", "LIST"), "ka")["fd"])
			get := func(level, opt int) int {
				v, err := unix.GetsockoptInt(fd, level, opt)
				if err != nil {
					t.Fatalf("getsockopt on fd %d: %v", fd, err)
				}
				return v
			}
			if v := get(unix.SOL_SOCKET, unix.SO_KEEPALIVE); v != tc.on {
				t.Fatalf("SO_KEEPALIVE = %d, want %d", v, tc.on)
			}
			if tc.on == 0 {
				return
			}
			for _, o := range []struct {
				name      string
				opt, want int
			}{{"TCP_KEEPIDLE", unix.TCP_KEEPIDLE, tc.idle}, {"TCP_KEEPINTVL", unix.TCP_KEEPINTVL, tc.intvl}, {"TCP_KEEPCNT", unix.TCP_KEEPCNT, tc.n}} {
				if v := get(unix.IPPROTO_TCP, o.opt); v != o.want {
					t.Fatalf("%s = %d, want %s", o.name, v, strconv.Itoa(o.want))
				}
			}
		})
	}
}
