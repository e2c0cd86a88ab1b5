//go:build linux

package server_test

import (
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestClockMarkBetweenBatches: on the event loop a pipelined command
// starts timing at the end of the one before (command.Client.ClockMark),
// but never across a wait for input: commands sent after a pause do not
// count the pause in their commandstats usec.
func TestClockMarkBetweenBatches(t *testing.T) {
	addr, _ := startLoopServer(t)
	c := dialRaw(t, addr)
	pipeline := strings.Repeat(string(encodeCmd([]string{"PING"})), 3)
	for i := 0; i < 3; i++ {
		if _, err := c.nc.Write([]byte(pipeline)); err != nil {
			t.Fatal(err)
		}
		got := ""
		for strings.Count(got, "PONG") < 3 {
			r := c.read(2 * time.Second)
			if strings.Contains(r, "<timeout>") {
				t.Fatalf("replies %q", got+r)
			}
			got += r
		}
		time.Sleep(300 * time.Millisecond)
	}
	c.do("PING") // after a pause, alone
	info := c.do("INFO", "commandstats")
	m := regexp.MustCompile(`cmdstat_ping:calls=(\d+),usec=(\d+),`).FindStringSubmatch(info)
	if m == nil {
		t.Fatalf("no ping stats in\n%s", info)
	}
	calls, _ := strconv.Atoi(m[1])
	usec, _ := strconv.Atoi(m[2])
	if calls != 10 {
		t.Errorf("calls = %d, want 10", calls)
	}
	if usec >= 150000 { // the pauses are 300 ms each
		t.Errorf("ping usec = %d: a pause between batches was counted", usec)
	}
}
