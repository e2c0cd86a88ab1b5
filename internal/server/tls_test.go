package server_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/crescent-db/crescent/internal/config"
	"github.com/crescent-db/crescent/internal/server"
)

// pki is a test certificate authority with server and client
// certificates, written as PEM files under dir.
type pki struct {
	dir                    string
	caCert                 *x509.Certificate
	caKey                  *ecdsa.PrivateKey
	ca, serverCrt, server  string // file paths (server: key)
	clientCrt, client      string
	pool                   *x509.CertPool
	clientPair, serverPair tls.Certificate
}

var serial int64

func writePEM(t *testing.T, path, typ string, der []byte) {
	t.Helper()
	if err := os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
}

// newPKI makes a CA and, signed by it, a server certificate for
// 127.0.0.1 and a client certificate.
func newPKI(t *testing.T, name string) *pki {
	t.Helper()
	dir := filepath.Join(t.TempDir(), name)
	os.MkdirAll(dir, 0o755)
	p := &pki{dir: dir}
	var err error
	p.caKey, _ = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	serial++
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(serial), Subject: pkix.Name{CommonName: name + " CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &p.caKey.PublicKey, p.caKey)
	if err != nil {
		t.Fatal(err)
	}
	p.caCert, _ = x509.ParseCertificate(der)
	p.ca = filepath.Join(dir, "ca.crt")
	writePEM(t, p.ca, "CERTIFICATE", der)
	p.pool = x509.NewCertPool()
	p.pool.AddCert(p.caCert)
	p.serverCrt, p.server, p.serverPair = p.issue(t, "server", x509.ExtKeyUsageServerAuth)
	p.clientCrt, p.client, p.clientPair = p.issue(t, "client", x509.ExtKeyUsageClientAuth)
	return p
}

func (p *pki) issue(t *testing.T, cn string, usage x509.ExtKeyUsage) (crt, key string, pair tls.Certificate) {
	t.Helper()
	k, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	serial++
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(serial), Subject: pkix.Name{CommonName: cn},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{usage},
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, DNSNames: []string{"localhost"},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, p.caCert, &k.PublicKey, p.caKey)
	if err != nil {
		t.Fatal(err)
	}
	kder, _ := x509.MarshalPKCS8PrivateKey(k)
	crt, key = filepath.Join(p.dir, cn+".crt"), filepath.Join(p.dir, cn+".key")
	writePEM(t, crt, "CERTIFICATE", der)
	writePEM(t, key, "PRIVATE KEY", kder)
	pair, err = tls.LoadX509KeyPair(crt, key)
	if err != nil {
		t.Fatal(err)
	}
	return crt, key, pair
}

// tlsArgs are the directives for a TLS server of p.
func (p *pki) tlsArgs(tlsPort int, extra ...string) []string {
	return append([]string{"tls-port", strconv.Itoa(tlsPort), "tls-cert-file", p.serverCrt,
		"tls-key-file", p.server, "tls-ca-cert-file", p.ca}, extra...)
}

// startTLSCrescent starts Crescent with directives (name, value pairs).
func startTLSCrescent(t *testing.T, directives ...string) *server.Server {
	t.Helper()
	_, s := startCrescent(t, directives...)
	return s
}

// tlsPing connects with tc and sends PING through go-redis.
func tlsPing(addr string, tc *tls.Config) error {
	rdb := redis.NewClient(&redis.Options{Addr: addr, TLSConfig: tc, MaxRetries: -1,
		DialTimeout: 2 * time.Second, ReadTimeout: 2 * time.Second, Protocol: 2})
	defer rdb.Close()
	return rdb.Ping(context.Background()).Err()
}

// clientTLS returns a client configuration trusting roots, presenting
// cert when given.
func clientTLS(roots *x509.CertPool, cert *tls.Certificate) *tls.Config {
	tc := &tls.Config{RootCAs: roots, ServerName: "127.0.0.1"}
	if cert != nil {
		// always present it (Go's client otherwise sends a certificate
		// only when its issuer is among the CAs the server lists, where
		// OpenSSL clients send it anyway)
		tc.GetClientCertificate = func(*tls.CertificateRequestInfo) (*tls.Certificate, error) { return cert, nil }
	}
	return tc
}

// TestTLSClientAuth: tls-auth-clients yes / optional / no against clients
// with a good certificate, none, or one from another CA; a client that
// does not trust the server's CA fails too.
func TestTLSClientAuth(t *testing.T) {
	p, other := newPKI(t, "good"), newPKI(t, "other")
	type client struct {
		name string
		tc   *tls.Config
	}
	clients := []client{
		{"good cert", clientTLS(p.pool, &p.clientPair)},
		{"no cert", clientTLS(p.pool, nil)},
		{"other CA cert", clientTLS(p.pool, &other.clientPair)},
		{"untrusted server", clientTLS(other.pool, &p.clientPair)},
	}
	want := map[string][]bool{ // ok for each client
		"yes":      {true, false, false, false},
		"optional": {true, true, false, false},
		"no":       {true, true, true, false},
	}
	for _, mode := range []string{"yes", "optional", "no"} {
		t.Run(mode, func(t *testing.T) {
			s := startTLSCrescent(t, p.tlsArgs(freePort(t), "tls-auth-clients", mode)...)
			for i, c := range clients {
				err := tlsPing(s.TLSAddr().String(), c.tc)
				if (err == nil) != want[mode][i] {
					t.Errorf("%s: err=%v, want ok=%v", c.name, err, want[mode][i])
				}
			}
		})
	}
}

// TestTLSSideBySide: a plain port and a TLS port at once; port 0 with a
// TLS port disables the plain one; plain RESP on the TLS port fails.
func TestTLSSideBySide(t *testing.T) {
	p := newPKI(t, "ca")
	plainPort, tlsPort := freePort(t), freePort(t)
	s := startTLSCrescent(t, append([]string{"port", strconv.Itoa(plainPort)}, p.tlsArgs(tlsPort)...)...)
	if got := s.Addr().(*net.TCPAddr).Port; got != plainPort {
		t.Fatalf("plain addr port %d, want %d", got, plainPort)
	}
	if err := tlsPing(s.TLSAddr().String(), clientTLS(p.pool, &p.clientPair)); err != nil {
		t.Fatalf("tls: %v", err)
	}
	if err := tlsPing(s.Addr().String(), nil); err != nil {
		t.Fatalf("plain: %v", err)
	}
	// keys written over TLS are seen over plain TCP
	ctx := context.Background()
	tr := redis.NewClient(&redis.Options{Addr: s.TLSAddr().String(), TLSConfig: clientTLS(p.pool, &p.clientPair)})
	defer tr.Close()
	if err := tr.Set(ctx, "k", strings.Repeat("v", 100000), 0).Err(); err != nil {
		t.Fatal(err)
	}
	pr := redis.NewClient(&redis.Options{Addr: s.Addr().String()})
	defer pr.Close()
	if n, err := pr.StrLen(ctx, "k").Result(); err != nil || n != 100000 {
		t.Fatalf("strlen over plain: %d %v", n, err)
	}
	// plain RESP to the TLS port gets no reply
	nc, err := net.DialTimeout("tcp", s.TLSAddr().String(), time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	nc.Write([]byte("PING\r\n"))
	nc.SetReadDeadline(time.Now().Add(2 * time.Second))
	buf := make([]byte, 64)
	n, _ := nc.Read(buf)
	if strings.Contains(string(buf[:n]), "PONG") {
		t.Fatalf("plain PING answered on the TLS port: %q", buf[:n])
	}

	only := startTLSCrescent(t, p.tlsArgs(freePort(t))...)
	if only.Addr().String() != only.TLSAddr().String() {
		t.Fatalf("port 0: Addr %v, TLSAddr %v: plain port not disabled", only.Addr(), only.TLSAddr())
	}
}

// TestTLSProtocolsAndCiphers: tls-protocols bounds the versions,
// tls-ciphers picks the TLS 1.2 suite.
func TestTLSProtocolsAndCiphers(t *testing.T) {
	p := newPKI(t, "ca")
	dial := func(addr string, min, max uint16, suites []uint16) (tls.ConnectionState, error) {
		tc := clientTLS(p.pool, &p.clientPair)
		tc.MinVersion, tc.MaxVersion, tc.CipherSuites = min, max, suites
		c, err := tls.DialWithDialer(&net.Dialer{Timeout: 2 * time.Second}, "tcp", addr, tc)
		if err != nil {
			return tls.ConnectionState{}, err
		}
		defer c.Close()
		c.Write([]byte("PING\r\n"))
		buf := make([]byte, 16)
		c.SetReadDeadline(time.Now().Add(2 * time.Second))
		if _, err := c.Read(buf); err != nil {
			return tls.ConnectionState{}, err
		}
		return c.ConnectionState(), nil
	}
	s13 := startTLSCrescent(t, p.tlsArgs(freePort(t), "tls-protocols", "TLSv1.3")...)
	if _, err := dial(s13.TLSAddr().String(), tls.VersionTLS12, tls.VersionTLS12, nil); err == nil {
		t.Errorf("TLSv1.2 client accepted by a TLSv1.3-only server")
	}
	if st, err := dial(s13.TLSAddr().String(), tls.VersionTLS12, tls.VersionTLS13, nil); err != nil || st.Version != tls.VersionTLS13 {
		t.Errorf("TLSv1.3: %v %x", err, st.Version)
	}
	s12 := startTLSCrescent(t, p.tlsArgs(freePort(t), "tls-protocols", "tlsv1.2",
		"tls-ciphers", "HIGH:!aNULL:ECDHE-ECDSA-AES256-GCM-SHA384")...)
	st, err := dial(s12.TLSAddr().String(), tls.VersionTLS12, tls.VersionTLS13, nil)
	if err != nil || st.Version != tls.VersionTLS12 || st.CipherSuite != tls.TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384 {
		t.Errorf("TLSv1.2 with tls-ciphers: %v version %x suite %s", err, st.Version, tls.CipherSuiteName(st.CipherSuite))
	}
	if _, err := dial(s12.TLSAddr().String(), tls.VersionTLS12, tls.VersionTLS12,
		[]uint16{tls.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256}); err == nil {
		t.Errorf("a suite outside tls-ciphers was accepted")
	}
}

// TestTLSConfigErrors: startup and CONFIG SET validation of the tls-*
// directives, with Redis's texts.
func TestTLSConfigErrors(t *testing.T) {
	p := newPKI(t, "ca")
	cases := []struct {
		name string
		args []string
		want string
	}{
		{"no CA with client auth", []string{"tls-port", "1", "tls-cert-file", p.serverCrt, "tls-key-file", p.server},
			"Either tls-ca-cert-file or tls-ca-cert-dir must be specified"},
		{"no cert", []string{"tls-port", "1"}, "No tls-cert-file configured!"},
		{"bad key", []string{"tls-port", "1", "tls-cert-file", p.serverCrt, "tls-key-file", p.client, "tls-ca-cert-file", p.ca},
			"Failed to load certificate"},
		{"no cipher maps", append(p.tlsArgs(1), "tls-ciphers", "NOPE"), "Failed to configure ciphers"},
		{"no TLS 1.3 suite", append(p.tlsArgs(1), "tls-ciphersuites", "TLS_NOPE"), "Failed to configure ciphersuites"},
	}
	for _, c := range cases {
		cfg := config.New()
		for i := 0; i < len(c.args); i += 2 {
			if err := cfg.Set(c.args[i], c.args[i+1]); err != nil {
				t.Fatalf("%s: %v", c.name, err)
			}
		}
		_, err := server.New(cfg, testLogger(), "")
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v, want %q", c.name, err, c.want)
		}
	}
	// CONFIG SET validation, differential with Redis when present.
	s := startTLSCrescent(t, p.tlsArgs(freePort(t), "tls-auth-clients", "optional")...)
	cmds := [][]string{
		{"CONFIG", "SET", "tls-auth-clients", "maybe"},
		{"CONFIG", "SET", "tls-auth-clients", "OPTIONAL"},
		{"CONFIG", "GET", "tls-auth-clients"},
		{"CONFIG", "SET", "tls-protocols", "TLSv9"},
		{"CONFIG", "SET", "tls-protocols", "TLSv1.2 TLSv1.3"},
		{"CONFIG", "GET", "tls-port"},
	}
	rdb := redis.NewClient(&redis.Options{Addr: s.TLSAddr().String(), TLSConfig: clientTLS(p.pool, nil), Protocol: 2})
	defer rdb.Close()
	wants := []string{
		"ERR CONFIG SET failed (possibly related to argument 'tls-auth-clients') - argument(s) must be one of the following: no, yes, optional",
		"OK", "[tls-auth-clients optional]",
		// redis-server 7.0.15 (TLS build): applyTlsCfg's error, the
		// protocol list's own goes to the log
		"ERR CONFIG SET failed (possibly related to argument 'tls-protocols') - Unable to update TLS configuration. Check server logs.",
		"OK", "[tls-port " + strconv.Itoa(s.TLSAddr().(*net.TCPAddr).Port) + "]",
	}
	for i, c := range cmds {
		args := make([]any, len(c))
		for j := range c {
			args[j] = c[j]
		}
		v, err := rdb.Do(context.Background(), args...).Result()
		got := ""
		if err != nil {
			got = err.Error()
		} else {
			got = strings.Trim(strings.ReplaceAll(strings.TrimSpace(fmtAny(v)), "  ", " "), " ")
		}
		if got != wants[i] {
			t.Errorf("%q: got %q, want %q", c, got, wants[i])
		}
	}
}

func fmtAny(v any) string {
	switch x := v.(type) {
	case []any:
		parts := make([]string, len(x))
		for i := range x {
			parts[i] = fmtAny(x[i])
		}
		return "[" + strings.Join(parts, " ") + "]"
	case string:
		return x
	}
	return ""
}

// TestTLSReloadAndCADir: CONFIG SET tls-cert-file / tls-key-file takes
// effect on the next handshake; tls-ca-cert-dir trusts the PEM files of a
// directory.
func TestTLSReloadAndCADir(t *testing.T) {
	p, q := newPKI(t, "first"), newPKI(t, "second")
	caDir := t.TempDir()
	for i, f := range []string{p.ca, q.ca} {
		b, _ := os.ReadFile(f)
		os.WriteFile(filepath.Join(caDir, "ca"+strconv.Itoa(i)+".pem"), b, 0o644)
	}
	os.WriteFile(filepath.Join(caDir, "README"), []byte("not a certificate"), 0o644)
	s := startTLSCrescent(t, "tls-port", strconv.Itoa(freePort(t)), "tls-cert-file", p.serverCrt,
		"tls-key-file", p.server, "tls-ca-cert-dir", caDir)
	addr := s.TLSAddr().String()
	// client certs of both CAs are accepted
	for _, c := range []*tls.Certificate{&p.clientPair, &q.clientPair} {
		if err := tlsPing(addr, clientTLS(p.pool, c)); err != nil {
			t.Fatalf("ca dir: %v", err)
		}
	}
	rdb := redis.NewClient(&redis.Options{Addr: addr, TLSConfig: clientTLS(p.pool, &p.clientPair)})
	defer rdb.Close()
	ctx := context.Background()
	if err := rdb.ConfigSet(ctx, "tls-cert-file", q.serverCrt).Err(); err != nil {
		t.Fatal(err)
	}
	if err := rdb.ConfigSet(ctx, "tls-key-file", q.server).Err(); err != nil {
		t.Fatal(err)
	}
	// the old connection goes on; new handshakes present q's certificate
	if err := rdb.Ping(ctx).Err(); err != nil {
		t.Fatal(err)
	}
	if err := tlsPing(addr, clientTLS(p.pool, &p.clientPair)); err == nil {
		t.Fatal("the rotated certificate is still signed by the old CA?")
	}
	if err := tlsPing(addr, clientTLS(q.pool, &p.clientPair)); err != nil {
		t.Fatalf("after rotation: %v", err)
	}
}

// TestTLSEncryptedKey: tls-key-file-pass decrypts PKCS#8 (OpenSSL 3's
// default) and legacy PEM encrypted keys made by the openssl tool.
func TestTLSEncryptedKey(t *testing.T) {
	bin, err := exec.LookPath("openssl")
	if err != nil {
		t.Skip("openssl not installed")
	}
	p := newPKI(t, "ca")
	for _, c := range []struct {
		name string
		args []string
	}{
		{"pkcs8 aes-256-cbc", []string{"pkcs8", "-topk8", "-v2", "aes-256-cbc"}},
		{"pkcs8 aes-128 sha1", []string{"pkcs8", "-topk8", "-v2", "aes-128-cbc", "-v2prf", "hmacWithSHA1"}},
		{"legacy ec", []string{"ec", "-aes256"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			enc := filepath.Join(t.TempDir(), "enc.key")
			cmd := exec.Command(bin, append(c.args, "-in", p.server, "-out", enc, "-passout", "pass:s3cret")...)
			if out, err := cmd.CombinedOutput(); err != nil {
				t.Skipf("openssl %v: %v %s", c.args, err, out)
			}
			if b, _ := os.ReadFile(enc); !strings.Contains(string(b), "ENCRYPTED") {
				t.Fatalf("openssl did not encrypt: %s", b)
			}
			args := []string{"tls-port", strconv.Itoa(freePort(t)), "tls-cert-file", p.serverCrt,
				"tls-key-file", enc, "tls-ca-cert-file", p.ca}
			cfg := config.New()
			for i := 0; i < len(args); i += 2 {
				cfg.Set(args[i], args[i+1])
			}
			cfg.Set("tls-key-file-pass", "wrong")
			if _, err := server.New(cfg, testLogger(), ""); err == nil {
				t.Fatal("wrong pass accepted")
			}
			s := startTLSCrescent(t, append(args, "tls-key-file-pass", "s3cret")...)
			if err := tlsPing(s.TLSAddr().String(), clientTLS(p.pool, &p.clientPair)); err != nil {
				t.Fatal(err)
			}
		})
	}
}

// TestTLSRedisCLI: redis-cli --tls talks to Crescent, and redis-server
// given the same files makes the same accept/reject decisions.
func TestTLSRedisCLI(t *testing.T) {
	cli, err := exec.LookPath("redis-cli")
	if err != nil {
		t.Skip("redis-cli not installed")
	}
	if out, _ := exec.Command(cli, "--help").CombinedOutput(); !strings.Contains(string(out), "--tls") {
		t.Skip("redis-cli built without TLS")
	}
	p, other := newPKI(t, "ca"), newPKI(t, "other")
	crescent := startTLSCrescent(t, p.tlsArgs(freePort(t))...)
	cport := strconv.Itoa(crescent.TLSAddr().(*net.TCPAddr).Port)
	ports := map[string]string{"crescent": cport}
	if bin, err := exec.LookPath("redis-server"); err == nil {
		rport := strconv.Itoa(freePort(t))
		cmd := exec.Command(bin, "--port", "0", "--tls-port", rport, "--bind", "127.0.0.1", "--save", "",
			"--tls-cert-file", p.serverCrt, "--tls-key-file", p.server, "--tls-ca-cert-file", p.ca)
		if err := cmd.Start(); err == nil {
			t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
			for i := 0; i < 100; i++ {
				if c, err := net.Dial("tcp", "127.0.0.1:"+rport); err == nil {
					c.Close()
					ports["redis"] = rport
					break
				}
				time.Sleep(20 * time.Millisecond)
			}
		}
	}
	cases := []struct {
		name string
		args []string
	}{
		{"client cert", []string{"--cacert", p.ca, "--cert", p.clientCrt, "--key", p.client}},
		{"no client cert", []string{"--cacert", p.ca}},
		{"wrong CA", []string{"--cacert", other.ca, "--cert", p.clientCrt, "--key", p.client}},
		{"foreign client cert", []string{"--cacert", p.ca, "--cert", other.clientCrt, "--key", other.client}},
	}
	for _, c := range cases {
		got := map[string]bool{}
		for name, port := range ports {
			args := append([]string{"--tls", "-h", "127.0.0.1", "-p", port}, c.args...)
			out, _ := exec.Command(cli, append(args, "PING")...).CombinedOutput()
			got[name] = strings.TrimSpace(string(out)) == "PONG"
		}
		if c.name == "client cert" && !got["crescent"] {
			t.Errorf("%s: crescent refused", c.name)
		}
		if _, ok := ports["redis"]; !ok {
			t.Logf("redis-server with TLS not available: crescent only")
		}
		if r, ok := got["redis"]; ok && r != got["crescent"] {
			t.Errorf("%s: redis ok=%v, crescent ok=%v", c.name, r, got["crescent"])
		}
	}
}
