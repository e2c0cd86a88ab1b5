package difftest

import (
	"bytes"
	"fmt"
	"strings"
	"testing"
	"time"
)

// endOfCase ends every exchange of TestClientReply: the bytes up to its
// reply are compared whole, as a pipeline's replies (a reply silenced
// halfway through an EXEC leaves an array that no reader can split).
const endOfCase = "CLIENT REPLY ON\r\nECHO end-of-case\r\n"

// readThrough reads c's raw output up to and including the reply to
// endOfCase.
func readThrough(c *Conn) (string, error) {
	const end = "$11\r\nend-of-case\r\n"
	var out []byte
	buf := make([]byte, 4096)
	c.NetConn().SetReadDeadline(time.Now().Add(c.Timeout))
	for !bytes.HasSuffix(out, []byte(end)) {
		n, err := c.Reader().Read(buf)
		out = append(out, buf[:n]...)
		if err != nil {
			return string(out), err
		}
	}
	return string(out), nil
}

// TestClientReply compares CLIENT REPLY OFF, ON and SKIP with Redis's:
// a reply is dropped when the client's flags say so as it is written, so
// replies written before CLIENT REPLY OFF in one pipelined batch go out,
// SKIP drops the next command's reply only, EXEC's array and its queued
// commands' replies each follow the flags of their moment, and pushes
// (pub/sub messages, (un)subscribe confirmations, keyspace
// notifications) are never dropped. Each case is one pipelined batch
// (input parts separated by "|" are sent one after the other, each
// followed by a PING whose reply shows that it ran); CLIENT REPLY OFF
// before HELLO 3 keeps the client id out of the output.
func TestClientReply(t *testing.T) {
	p := StartPair(t)
	cases := []struct {
		name string
		in   string
	}{
		{"off keeps earlier replies", "PING\r\nSET cr:a 1\r\nCLIENT REPLY OFF\r\nGET cr:a\r\n"},
		{"off then on", "PING a\r\nCLIENT REPLY OFF\r\nPING b\r\nCLIENT REPLY ON\r\nPING c\r\n"},
		{"skip", "PING\r\nCLIENT REPLY SKIP\r\nPING a\r\nPING b\r\nCLIENT REPLY SKIP\r\nCLIENT REPLY SKIP\r\nPING c\r\nPING d\r\n"},
		{"skip then on", "CLIENT REPLY SKIP\r\nCLIENT REPLY ON\r\nPING x\r\n"},
		{"skip then off", "CLIENT REPLY SKIP\r\nCLIENT REPLY OFF\r\nPING x\r\n"},
		{"skip an error", "CLIENT REPLY SKIP\r\nNOSUCH\r\nGET\r\nCLIENT REPLY SKIP\r\nGET\r\nPING x\r\n"},
		{"off in exec", "MULTI\r\nPING a\r\nCLIENT REPLY OFF\r\nPING b\r\nEXEC\r\nPING c\r\n"},
		{"skip in exec", "MULTI\r\nPING a\r\nCLIENT REPLY SKIP\r\nPING b\r\nEXEC\r\nPING c\r\nPING d\r\n"},
		{"skip multi", "CLIENT REPLY SKIP\r\nMULTI\r\nPING a\r\nEXEC\r\nPING d\r\n"},
		{"on in exec", "CLIENT REPLY OFF\r\nMULTI\r\nPING a\r\nCLIENT REPLY ON\r\nPING b\r\nEXEC\r\nPING d\r\n"},
		{"on and off in exec", "CLIENT REPLY OFF\r\nMULTI\r\nPING a\r\nCLIENT REPLY ON\r\nPING b\r\nCLIENT REPLY OFF\r\nPING c\r\nEXEC\r\nPING d\r\n"},
		{"exec aborted", "CLIENT REPLY OFF\r\nMULTI\r\nNOSUCH\r\nEXEC\r\nCLIENT REPLY ON\r\nEXEC\r\n"},
		{"subscribe confirmations", "CLIENT REPLY OFF\r\nSUBSCRIBE cr:c1 cr:c2\r\nUNSUBSCRIBE cr:c1\r\nPSUBSCRIBE cr:p*\r\nPUNSUBSCRIBE\r\nUNSUBSCRIBE\r\nUNSUBSCRIBE\r\nRESET\r\nPING\r\n"},
		{"skip subscribe", "CLIENT REPLY SKIP\r\nSUBSCRIBE cr:c1\r\nPING\r\nRESET\r\n"},
		{"resp3 own messages", "CLIENT REPLY OFF\r\nHELLO 3\r\nSUBSCRIBE cr:c1 cr:c2\r\nSSUBSCRIBE cr:s\r\nSUNSUBSCRIBE\r\nPUBLISH cr:c1 x\r\nMULTI\r\nSUBSCRIBE cr:c3\r\nPUBLISH cr:c3 y\r\nEXEC\r\nCLIENT REPLY ON\r\nPUBLISH cr:c2 z\r\nCLIENT REPLY SKIP\r\nPUBLISH cr:c2 w\r\nRESET\r\n"},
		{"resp3 own notifications", "CONFIG SET notify-keyspace-events KEA\r\nCLIENT REPLY OFF\r\nHELLO 3\r\nSUBSCRIBE __keyevent@0__:set\r\nSET cr:k v\r\nMULTI\r\nSET cr:k 2\r\nEXEC\r\nEVAL \"redis.call('set',KEYS[1],1) return 5\" 1 cr:k\r\nEVAL \"redis.call('set','cr:k',1) return 5\" 0\r\nCLIENT REPLY SKIP\r\nSET cr:k 3\r\nSET cr:k 4\r\nRESET\r\nCONFIG SET notify-keyspace-events \"\"\r\n"},
		// two connections: messages from another client, a blocked
		// command's reply
		{"others' messages", "CLIENT REPLY OFF\r\nHELLO 3\r\nSUBSCRIBE cr:m\r\nCLIENT REPLY ON\r\nCLIENT REPLY SKIP\r\n|@PUBLISH cr:m m1\r\n|PING\r\n|@PUBLISH cr:m m2\r\n|CLIENT REPLY OFF\r\n|@PUBLISH cr:m m3\r\n|RESET\r\n"},
		{"skip blocked", "CLIENT REPLY SKIP\r\nBLPOP cr:l 0\r\n|@RPUSH cr:l x\r\n|PING\r\n"},
		{"off blocked", "CLIENT REPLY OFF\r\nBLPOP cr:l 0\r\n|@RPUSH cr:l x\r\n|CLIENT REPLY ON\r\nPING\r\n"},
	}
	run := func(addr string, in string) (string, error) {
		a, err := DialAddr(addr)
		if err != nil {
			return "", err
		}
		defer a.Close()
		b, err := DialAddr(addr)
		if err != nil {
			return "", err
		}
		defer b.Close()
		for _, part := range strings.Split(in, "|") {
			if cmd, ok := strings.CutPrefix(part, "@"); ok {
				// another client's command, once the first client is
				// blocked (RPUSH) or subscribed (PUBLISH)
				if err := waitFor(b, cmd); err != nil {
					return "", err
				}
				if _, err := b.DoLine(strings.TrimSpace(cmd)); err != nil {
					return "", err
				}
				continue
			}
			if err := a.Send([]byte(part)); err != nil {
				return "", err
			}
		}
		if err := a.Send([]byte(endOfCase)); err != nil {
			return "", err
		}
		return readThrough(a)
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r, err := run(p.Redis.Addr, tc.in)
			if err != nil {
				t.Fatalf("redis: %v (read %q)", err, r)
			}
			c, err := run(p.Crescent.Addr, tc.in)
			if err != nil {
				t.Fatalf("crescent: %v (read %q)", err, c)
			}
			if r != c {
				t.Errorf("input %q:\n  redis:    %q\n  crescent: %q", tc.in, r, c)
			}
		})
	}
}

// waitFor waits until the first client of TestClientReply is ready for
// another's cmd: blocked for an RPUSH, subscribed for a PUBLISH.
func waitFor(c *Conn, cmd string) error {
	var ask []string
	var want string
	switch f := strings.Fields(cmd); f[0] {
	case "RPUSH":
		ask, want = []string{"INFO", "clients"}, "blocked_clients:1\r\n"
	case "PUBLISH":
		ask, want = []string{"PUBSUB", "NUMSUB", f[1]}, ":1\r\n"
	default:
		return nil
	}
	for range 500 {
		r, err := c.Do(ask...)
		if err != nil {
			return err
		}
		if bytes.Contains(r, []byte(want)) {
			return nil
		}
		time.Sleep(2 * time.Millisecond)
	}
	return fmt.Errorf("%s: the other client is not ready", cmd)
}
