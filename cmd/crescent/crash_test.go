package main

import (
	"bufio"
	"bytes"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestMain runs main() instead of the tests when the test binary is
// started by a test below as the server (CRESCENT_TEST_MAIN=1), so that
// the crash tests need no separate build.
func TestMain(m *testing.M) {
	if os.Getenv("CRESCENT_TEST_MAIN") == "1" {
		os.Args = append([]string{"crescent"}, strings.Split(os.Getenv("CRESCENT_TEST_ARGS"), "\x1f")...)
		main()
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// serverProc is this package's main() run as a subprocess.
type serverProc struct {
	cmd    *exec.Cmd
	addr   string
	dir    string
	stderr bytes.Buffer
	done   chan struct{}
}

func startServerProc(t *testing.T, args ...string) *serverProc {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	p := &serverProc{dir: t.TempDir(), done: make(chan struct{})}
	p.addr = net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	all := append([]string{"--port", strconv.Itoa(port), "--bind", "127.0.0.1", "--dir", p.dir, "--save", ""}, args...)
	p.cmd = exec.Command(os.Args[0])
	p.cmd.Env = append(os.Environ(), "CRESCENT_TEST_MAIN=1", "CRESCENT_TEST_ARGS="+strings.Join(all, "\x1f"))
	p.cmd.Stderr = &p.stderr
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { p.cmd.Wait(); close(p.done) }()
	t.Cleanup(func() { p.cmd.Process.Kill(); <-p.done })
	for deadline := time.Now().Add(10 * time.Second); ; {
		if r, err := p.do("PING"); err == nil && r == "+PONG" {
			return p
		}
		if time.Now().After(deadline) {
			t.Fatalf("the server did not start: %s", p.stderr.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// do sends one command on a new connection and returns the reply's first
// line.
func (p *serverProc) do(args ...string) (string, error) {
	c, err := net.DialTimeout("tcp", p.addr, time.Second)
	if err != nil {
		return "", err
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(5 * time.Second))
	var b strings.Builder
	fmt.Fprintf(&b, "*%d\r\n", len(args))
	for _, a := range args {
		fmt.Fprintf(&b, "$%d\r\n%s\r\n", len(a), a)
	}
	if _, err := c.Write([]byte(b.String())); err != nil {
		return "", err
	}
	line, err := bufio.NewReader(c).ReadString('\n')
	return strings.TrimRight(line, "\r\n"), err
}

// abortWithLog starts the server with a log file (and args), sends it
// SIGABRT, waits for it to die, and returns it and its log file's content.
func abortWithLog(t *testing.T, args ...string) (*serverProc, []byte) {
	t.Helper()
	p := startServerProc(t, append([]string{"--logfile", "crescent.log"}, args...)...)
	if err := p.cmd.Process.Signal(syscall.SIGABRT); err != nil {
		t.Fatal(err)
	}
	select {
	case <-p.done:
	case <-time.After(10 * time.Second):
		t.Fatal("the server survived SIGABRT")
	}
	log, err := os.ReadFile(filepath.Join(p.dir, "crescent.log"))
	if err != nil {
		t.Fatal(err)
	}
	return p, log
}

// TestCrashReports: what Redis's logging tests (tests/integration/
// logging.tcl) check, as it applies to Crescent (docs/design/fidelity.md,
// "Redis's redis-cli, redis-benchmark, logging and old-encoding tests,
// checked"): a process killed by SIGABRT leaves its crash report (the Go
// runtime's goroutine dump) in the log file when one is set, as Redis
// writes its report to its log; SIGALRM is survived, as in Redis; the
// DEBUG subcommands that crash Redis on purpose answer an error and the
// server keeps serving.
func TestCrashReports(t *testing.T) {
	if testing.Short() {
		t.Skip("starts server processes")
	}
	t.Run("SIGABRT report in the log file", func(t *testing.T) {
		p, log := abortWithLog(t)
		if !bytes.Contains(log, []byte("SIGABRT: abort")) || !bytes.Contains(log, []byte("goroutine ")) {
			t.Errorf("no crash report in the log file:\n%s\n(stderr: %.300s)", log, p.stderr.String())
		}
	})
	t.Run("crash-log-enabled no: no report in the log file", func(t *testing.T) {
		_, log := abortWithLog(t, "--crash-log-enabled", "no")
		if bytes.Contains(log, []byte("SIGABRT")) {
			t.Errorf("a crash report in the log file with crash-log-enabled no:\n%.300s", log)
		}
	})
	t.Run("SIGALRM is survived", func(t *testing.T) {
		p := startServerProc(t)
		if err := p.cmd.Process.Signal(syscall.SIGALRM); err != nil {
			t.Fatal(err)
		}
		time.Sleep(50 * time.Millisecond)
		if r, err := p.do("PING"); r != "+PONG" {
			t.Errorf("PING after SIGALRM: %q %v", r, err)
		}
	})
	t.Run("DEBUG crash subcommands answer an error", func(t *testing.T) {
		p := startServerProc(t, "--enable-debug-command", "yes")
		for _, sub := range [][]string{{"SEGFAULT"}, {"PANIC"}, {"ASSERT"}, {"OOM"}, {"CRASH-AND-RECOVER", "0"}, {"RESTART", "0"}} {
			r, err := p.do(append([]string{"DEBUG"}, sub...)...)
			want := fmt.Sprintf("-ERR unknown subcommand or wrong number of arguments for '%s'. Try DEBUG HELP.", sub[0])
			if err != nil || r != want {
				t.Errorf("DEBUG %v: %q %v", sub, r, err)
			}
			if r, err := p.do("PING"); r != "+PONG" {
				t.Fatalf("PING after DEBUG %v: %q %v", sub, r, err)
			}
		}
	})
}
