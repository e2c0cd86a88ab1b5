package server_test

import (
	"os"
	"regexp"
	"strings"
	"testing"
)

// oomScoreSteps runs oom-score-adj.tcl's cases on the server at addr,
// whose process's score file is path, and returns the score after each.
func oomScoreSteps(t *testing.T, addr, path string) []string {
	t.Helper()
	c := dialRaw(t, addr)
	read := func() string {
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		return strings.TrimSpace(string(b))
	}
	set := func(v string) {
		if err := os.WriteFile(path, []byte(v), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	set("0")
	defer set("0")
	var out []string
	for _, st := range [][]string{
		{"CONFIG", "SET", "oom-score-adj-values", "10 20 30"}, // disabled: not touched
		{"CONFIG", "SET", "oom-score-adj", "yes"},             // relative to 0
		{"REPLICAOF", "127.0.0.1", "1"},                       // the replica class
		{"REPLICAOF", "NO", "ONE"},
		{"CONFIG", "SET", "oom-score-adj", "no"}, // restored
		{"SET9"},                                 // a base of 9 set from outside
		{"CONFIG", "SET", "oom-score-adj", "relative"},
		{"CONFIG", "SET", "oom-score-adj", "absolute"},
		{"CONFIG", "SET", "oom-score-adj-values", "-2000 2000 0", "oom-score-adj", "relative"},
		{"CONFIG", "SET", "oom-score-adj-values", "2000 -2000 0"},
		{"CONFIG", "SET", "oom-score-adj", "no"}, // back to 9
		{"CONFIG", "SET", "oom-score-adj-values", "0 200 800"},
	} {
		if st[0] == "SET9" {
			set("9")
			out = append(out, "set 9 -> "+read())
			continue
		}
		r := c.mustDo(st...)
		out = append(out, strings.Join(st, " ")+" -> "+strings.TrimSpace(r)+" score "+read())
	}
	return out
}

// TestOOMScoreAdj: oom-score-adj and its values set the process's OOM
// score as Redis 7.0's setOOMScoreAdj (relative, absolute, clamped, the
// replica class, restored when disabled), compared with redis-server's
// /proc/<pid>/oom_score_adj. Crescent accepted the settings and never
// wrote the file. Crescent runs in this process: its file is
// /proc/self/oom_score_adj.
func TestOOMScoreAdj(t *testing.T) {
	if _, err := os.Stat("/proc/self/oom_score_adj"); err != nil {
		t.Skip("no /proc/self/oom_score_adj")
	}
	if os.Geteuid() != 0 {
		t.Skip("lowering oom_score_adj needs root")
	}
	redis := startRedis(t)
	info := dialRaw(t, redis).mustDo("INFO", "server")
	pid := regexp.MustCompile(`process_id:(\d+)`).FindStringSubmatch(info)
	if pid == nil {
		t.Fatalf("no process_id in %q", info)
	}
	want := oomScoreSteps(t, redis, "/proc/"+pid[1]+"/oom_score_adj")
	crescent, _ := startCrescent(t)
	got := oomScoreSteps(t, crescent, "/proc/self/oom_score_adj")
	for i := range want {
		if want[i] != got[i] {
			t.Errorf("step %d:\n  redis:    %s\n  crescent: %s", i, want[i], got[i])
		}
	}
}
