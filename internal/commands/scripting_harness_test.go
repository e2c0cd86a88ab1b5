package commands_test

// A minimal differential harness for the scripting tests: an in-process
// Crescent, a real redis-server started by the test, and a raw RESP client
// that returns each reply's exact bytes. (internal/difftest, written in
// parallel, may replace it after the merge.)

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/crescent-db/crescent/internal/config"
	"github.com/crescent-db/crescent/internal/server"
)

// startCrescent runs a Crescent server on a free loopback port and returns
// its address; it stops with the test.
func startScriptCrescent(t testing.TB, args ...string) (string, *server.Server) {
	t.Helper()
	cfg := config.New()
	all := append([]string{"--port", "0", "--bind", "127.0.0.1", "--save", ""}, args...)
	if err := cfg.Load("", all); err != nil {
		t.Fatal(err)
	}
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	srv, err := server.New(cfg, logger, "")
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.Listen(); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		srv.Run(ctx)
	}()
	t.Cleanup(func() {
		cancel()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			t.Error("crescent did not stop")
		}
	})
	return srv.Addr().String(), srv
}

// startRedis runs a real redis-server for the test, or skips when it is
// not installed.
func scriptStartRedis(t testing.TB, args ...string) string {
	t.Helper()
	path, err := exec.LookPath("redis-server")
	if err != nil {
		t.Skip("redis-server not installed: skipping differential test")
	}
	port := freePort(t)
	all := append([]string{"--port", strconv.Itoa(port), "--bind", "127.0.0.1", "--save", "",
		"--appendonly", "no", "--daemonize", "no", "--logfile", ""}, args...)
	cmd := exec.Command(path, all...)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	addr := fmt.Sprintf("127.0.0.1:%d", port)
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
	})
	for i := 0; i < 200; i++ {
		c, err := net.Dial("tcp", addr)
		if err == nil {
			c.Close()
			return addr
		}
		time.Sleep(25 * time.Millisecond)
	}
	t.Fatal("redis-server did not start")
	return ""
}

// rawClient sends commands and reads replies as raw RESP bytes.
type rawClient struct {
	c  net.Conn
	rd *bufio.Reader
}

func scriptDial(t testing.TB, addr string) *rawClient {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return &rawClient{c: c, rd: bufio.NewReader(c)}
}

func scriptEncode(args []string) []byte {
	var b strings.Builder
	fmt.Fprintf(&b, "*%d\r\n", len(args))
	for _, a := range args {
		fmt.Fprintf(&b, "$%d\r\n%s\r\n", len(a), a)
	}
	return []byte(b.String())
}

// do sends args and returns the raw reply.
func (r *rawClient) do(args ...string) (string, error) {
	if err := r.send(args...); err != nil {
		return "", err
	}
	return r.read()
}

func (r *rawClient) send(args ...string) error {
	r.c.SetDeadline(time.Now().Add(30 * time.Second))
	_, err := r.c.Write(scriptEncode(args))
	return err
}

func (r *rawClient) read() (string, error) {
	var b strings.Builder
	err := readReply(r.rd, &b)
	return b.String(), err
}

func readReply(rd *bufio.Reader, b *strings.Builder) error {
	line, err := rd.ReadString('\n')
	if err != nil {
		return err
	}
	b.WriteString(line)
	if len(line) < 3 {
		return errors.New("short line")
	}
	body := strings.TrimSuffix(line[1:], "\r\n")
	switch line[0] {
	case '+', '-', ':', '_', '#', ',', '(':
		return nil
	case '$', '=', '!':
		n, _ := strconv.Atoi(body)
		if n < 0 {
			return nil
		}
		buf := make([]byte, n+2)
		if _, err := io.ReadFull(rd, buf); err != nil {
			return err
		}
		b.Write(buf)
		return nil
	case '*', '~', '>':
		n, _ := strconv.Atoi(body)
		for i := 0; i < n; i++ {
			if err := readReply(rd, b); err != nil {
				return err
			}
		}
		return nil
	case '%', '|':
		n, _ := strconv.Atoi(body)
		for i := 0; i < 2*n; i++ {
			if err := readReply(rd, b); err != nil {
				return err
			}
		}
		if line[0] == '|' {
			return readReply(rd, b)
		}
		return nil
	}
	return fmt.Errorf("bad reply line %q", line)
}
