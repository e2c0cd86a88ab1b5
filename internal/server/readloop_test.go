package server_test

import (
	"net"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// TestReadLoop runs input shapes that stress the connection's read loop:
// a command trickling in byte by byte, a pipeline many times the read
// buffer, a value spanning many reads, clients that write and hang up at
// once, a blocking command in the middle of a pipeline, and a blocked
// client hanging up.
func TestReadLoop(t *testing.T) {
	addr, _ := startCrescent(t)
	c := dialRaw(t, addr)

	// byte by byte
	for _, b := range encodeCmd([]string{"SET", "k", "hello"}) {
		if _, err := c.nc.Write([]byte{b}); err != nil {
			t.Fatal(err)
		}
		time.Sleep(time.Millisecond)
	}
	if got := c.read(2 * time.Second); got != "+OK\r\n" {
		t.Fatalf("trickled SET: %q", got)
	}

	// a pipeline of 3000 commands in one write (~250KB)
	var batch []byte
	val := strings.Repeat("v", 50)
	for i := 0; i < 3000; i++ {
		batch = append(batch, encodeCmd([]string{"SET", "key:" + strconv.Itoa(i), val + strconv.Itoa(i)})...)
	}
	if _, err := c.nc.Write(batch); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 3000; i++ {
		if got := c.read(2 * time.Second); got != "+OK\r\n" {
			t.Fatalf("pipelined SET %d: %q", i, got)
		}
	}
	if got := c.do("GET", "key:2999"); got != "$54\r\n"+val+"2999\r\n" {
		t.Fatalf("GET key:2999: %q", got)
	}

	// a 3MB value
	big := strings.Repeat("0123456789", 300000)
	if got := c.do("SET", "big", big); got != "+OK\r\n" {
		t.Fatalf("SET big: %q", got)
	}
	if got := c.do("STRLEN", "big"); got != ":3000000\r\n" {
		t.Fatalf("STRLEN big: %q", got)
	}

	// BLPOP with a PING pipelined behind it
	c.nc.Write(append(encodeCmd([]string{"BLPOP", "q", "5"}), encodeCmd([]string{"PING"})...))
	if got := c.read(100 * time.Millisecond); got != "<timeout>" {
		t.Fatalf("BLPOP returned before the push: %q", got)
	}
	c2 := dialRaw(t, addr)
	if got := c2.do("LPUSH", "q", "x"); got != ":1\r\n" {
		t.Fatalf("LPUSH: %q", got)
	}
	if got := c.read(2 * time.Second); got != "*2\r\n$1\r\nq\r\n$1\r\nx\r\n" {
		t.Fatalf("BLPOP: %q", got)
	}
	if got := c.read(2 * time.Second); got != "+PONG\r\n" {
		t.Fatalf("PING after BLPOP: %q", got)
	}
	if got := c.do("GET", "k"); got != "$5\r\nhello\r\n" {
		t.Fatalf("GET after BLPOP: %q", got)
	}

	// clients that write and hang up at once are gone (the FIN
	// may arrive before the server first reads)
	var wg sync.WaitGroup
	for g := 0; g < 4; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 200; i++ {
				nc, err := net.Dial("tcp", addr)
				if err != nil {
					t.Error(err)
					return
				}
				nc.Write(encodeCmd([]string{"SET", "x", "y"}))
				nc.Close()
			}
		}()
	}
	wg.Wait()
	waitClients(t, c2, 2)

	// a blocked client that hangs up is gone
	c3 := dialRaw(t, addr)
	c3.send("BLPOP", "q2", "0")
	time.Sleep(50 * time.Millisecond)
	c3.nc.Close()
	deadline := time.Now().Add(2 * time.Second)
	for clientCount(c2) != 2 {
		if time.Now().After(deadline) {
			t.Fatalf("blocked client still listed after hanging up: %d clients", clientCount(c2))
		}
		time.Sleep(10 * time.Millisecond)
	}
}
