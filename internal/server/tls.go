package server

import (
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"

	"github.com/crescent-db/crescent/internal/config"
)

// TLS follows Redis's tls-* directives on Go's crypto/tls:
//
//   - tls-cert-file / tls-key-file (tls-key-file-pass for an encrypted
//     key: legacy "Proc-Type: 4,ENCRYPTED" PEM or PKCS#8 PBES2) are the
//     server's certificate;
//   - tls-ca-cert-file and the PEM files of tls-ca-cert-dir verify client
//     certificates as tls-auth-clients says (yes: required, optional:
//     verified when sent, no: not asked);
//   - tls-protocols bounds the versions (default TLSv1.2 and TLSv1.3);
//   - tls-ciphers (OpenSSL names, TLSv1.2 and below) maps to Go's suites;
//     tls-ciphersuites (TLSv1.3) is validated only: Go does not let a
//     server choose its TLS 1.3 suites; tls-prefer-server-ciphers is
//     accepted, as Go picks suites itself;
//   - tls-session-caching no disables session tickets.
//
// The configuration is rebuilt when a tls-* directive changes (CONFIG
// SET); a handshake always uses the latest one that built.
type tlsState struct {
	cur atomic.Pointer[tls.Config]
}

// tlsDirectives are the directives that rebuild the TLS configuration.
var tlsDirectives = []string{"tls-cert-file", "tls-key-file", "tls-key-file-pass",
	"tls-ca-cert-file", "tls-ca-cert-dir", "tls-auth-clients", "tls-protocols",
	"tls-ciphers", "tls-ciphersuites", "tls-prefer-server-ciphers", "tls-session-caching"}

// setupTLS validates the TLS directives and, when tls-port is set, builds
// the configuration the TLS listeners use.
func (s *Server) setupTLS(cfg *config.Config) error {
	cfg.SetNormalizer("tls-protocols", func(v string) (string, error) {
		// as Redis: checked only when TLS is in use (applyTlsCfg)
		if _, _, err := parseTLSProtocols(v); err != nil && cfg.Int("tls-port") != 0 {
			return "", errors.New("Unable to update TLS configuration. Check server logs.")
		}
		return v, nil
	})
	for _, d := range tlsDirectives {
		cfg.OnChange(d, func(string) {
			if cfg.Int("tls-port") == 0 {
				return
			}
			tc, err := buildTLSConfig(cfg)
			if err != nil {
				s.log.Warn("Failed to configure TLS; keeping the previous configuration", "err", err)
				return
			}
			s.tls.cur.Store(tc)
		})
	}
	if cfg.Int("tls-port") == 0 {
		return nil
	}
	tc, err := buildTLSConfig(cfg)
	if err != nil {
		return fmt.Errorf("Failed to configure TLS: %w", err)
	}
	s.tls.cur.Store(tc)
	return nil
}

// serverTLSConfig is the configuration handed to tls.NewListener: it
// defers to the current one at each handshake.
func (s *Server) serverTLSConfig() *tls.Config {
	return &tls.Config{GetConfigForClient: func(*tls.ClientHelloInfo) (*tls.Config, error) {
		return s.tls.cur.Load(), nil
	}}
}

// buildTLSConfig builds a server TLS configuration from the directives.
func buildTLSConfig(cfg *config.Config) (*tls.Config, error) {
	certFile, keyFile := cfg.Get("tls-cert-file"), cfg.Get("tls-key-file")
	if certFile == "" {
		return nil, errors.New("No tls-cert-file configured!")
	}
	if keyFile == "" {
		return nil, errors.New("No tls-key-file configured!")
	}
	cert, err := loadKeyPair(certFile, keyFile, cfg.Get("tls-key-file-pass"))
	if err != nil {
		return nil, err
	}
	tc := &tls.Config{Certificates: []tls.Certificate{cert}}
	auth := cfg.Get("tls-auth-clients")
	caFile, caDir := cfg.Get("tls-ca-cert-file"), cfg.Get("tls-ca-cert-dir")
	if caFile != "" || caDir != "" {
		pool, err := loadCAs(caFile, caDir)
		if err != nil {
			return nil, err
		}
		tc.ClientCAs = pool
	} else if auth != "no" {
		return nil, errors.New("Either tls-ca-cert-file or tls-ca-cert-dir must be specified when tls-cluster, tls-replication or tls-auth-clients are enabled!")
	}
	switch auth {
	case "no":
		tc.ClientAuth = tls.NoClientCert
	case "optional":
		tc.ClientAuth = tls.VerifyClientCertIfGiven
	default:
		tc.ClientAuth = tls.RequireAndVerifyClientCert
	}
	if tc.MinVersion, tc.MaxVersion, err = parseTLSProtocols(cfg.Get("tls-protocols")); err != nil {
		return nil, err
	}
	if v := cfg.Get("tls-ciphers"); v != "" {
		if tc.CipherSuites, err = parseTLSCiphers(v); err != nil {
			return nil, err
		}
	}
	if v := cfg.Get("tls-ciphersuites"); v != "" {
		if err := checkTLS13Suites(v); err != nil {
			return nil, err
		}
	}
	tc.SessionTicketsDisabled = cfg.Get("tls-session-caching") == "no"
	return tc, nil
}

// parseTLSProtocols parses tls-protocols ("TLSv1.2 TLSv1.3"): Go takes a
// range, so the versions span from the lowest to the highest named.
func parseTLSProtocols(v string) (lo, hi uint16, err error) {
	if strings.TrimSpace(v) == "" {
		return tls.VersionTLS12, tls.VersionTLS13, nil
	}
	for _, p := range strings.Fields(v) {
		var ver uint16
		switch strings.ToLower(p) {
		case "tlsv1":
			ver = tls.VersionTLS10
		case "tlsv1.1":
			ver = tls.VersionTLS11
		case "tlsv1.2":
			ver = tls.VersionTLS12
		case "tlsv1.3":
			ver = tls.VersionTLS13
		default:
			return 0, 0, errors.New("Invalid tls-protocols specified. Use a combination of 'TLSv1', 'TLSv1.1', 'TLSv1.2' and 'TLSv1.3'.")
		}
		if lo == 0 || ver < lo {
			lo = ver
		}
		if ver > hi {
			hi = ver
		}
	}
	return lo, hi, nil
}

// opensslCiphers maps OpenSSL cipher names (tls-ciphers) to Go's suites.
var opensslCiphers = map[string]uint16{
	"ECDHE-ECDSA-AES128-GCM-SHA256": tls.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
	"ECDHE-RSA-AES128-GCM-SHA256":   tls.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
	"ECDHE-ECDSA-AES256-GCM-SHA384": tls.TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,
	"ECDHE-RSA-AES256-GCM-SHA384":   tls.TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,
	"ECDHE-ECDSA-CHACHA20-POLY1305": tls.TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256,
	"ECDHE-RSA-CHACHA20-POLY1305":   tls.TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256,
	"ECDHE-ECDSA-AES128-SHA":        tls.TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA,
	"ECDHE-RSA-AES128-SHA":          tls.TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA,
	"ECDHE-ECDSA-AES256-SHA":        tls.TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA,
	"ECDHE-RSA-AES256-SHA":          tls.TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA,
	"ECDHE-ECDSA-AES128-SHA256":     tls.TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256,
	"ECDHE-RSA-AES128-SHA256":       tls.TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256,
	"AES128-GCM-SHA256":             tls.TLS_RSA_WITH_AES_128_GCM_SHA256,
	"AES256-GCM-SHA384":             tls.TLS_RSA_WITH_AES_256_GCM_SHA384,
	"AES128-SHA256":                 tls.TLS_RSA_WITH_AES_128_CBC_SHA256,
	"AES128-SHA":                    tls.TLS_RSA_WITH_AES_128_CBC_SHA,
	"AES256-SHA":                    tls.TLS_RSA_WITH_AES_256_CBC_SHA,
	"ECDHE-RSA-DES-CBC3-SHA":        tls.TLS_ECDHE_RSA_WITH_3DES_EDE_CBC_SHA,
	"DES-CBC3-SHA":                  tls.TLS_RSA_WITH_3DES_EDE_CBC_SHA,
}

// parseTLSCiphers maps an OpenSSL cipher list. Names Go does not
// implement, and OpenSSL's keywords (HIGH, !aNULL, @STRENGTH...), are
// skipped; a list of which nothing maps is an error, as in OpenSSL.
func parseTLSCiphers(v string) ([]uint16, error) {
	var out []uint16
	for _, name := range strings.FieldsFunc(v, func(r rune) bool { return r == ':' || r == ',' || r == ' ' }) {
		if id, ok := opensslCiphers[strings.ToUpper(name)]; ok {
			out = append(out, id)
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("Failed to configure ciphers: %s", v)
	}
	return out, nil
}

// checkTLS13Suites validates tls-ciphersuites: at least one suite Go
// implements must be named.
func checkTLS13Suites(v string) error {
	for _, name := range strings.Split(v, ":") {
		for _, cs := range tls.CipherSuites() {
			if cs.Name == strings.TrimSpace(name) && len(cs.SupportedVersions) == 1 && cs.SupportedVersions[0] == tls.VersionTLS13 {
				return nil
			}
		}
	}
	return fmt.Errorf("Failed to configure ciphersuites: %s", v)
}

// loadKeyPair reads the certificate chain and its key, decrypting the key
// with pass when it is encrypted.
func loadKeyPair(certFile, keyFile, pass string) (tls.Certificate, error) {
	certPEM, err := os.ReadFile(certFile)
	if err != nil {
		return tls.Certificate{}, fmt.Errorf("Failed to load certificate: %s: %w", certFile, err)
	}
	keyPEM, err := os.ReadFile(keyFile)
	if err != nil {
		return tls.Certificate{}, fmt.Errorf("Failed to load private key: %s: %w", keyFile, err)
	}
	if pass != "" {
		if keyPEM, err = decryptKeyPEM(keyPEM, []byte(pass)); err != nil {
			return tls.Certificate{}, fmt.Errorf("Failed to load private key: %s: %w", keyFile, err)
		}
	}
	cert, err := tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		return tls.Certificate{}, fmt.Errorf("Failed to load certificate: %s: %w", certFile, err)
	}
	return cert, nil
}

// loadCAs builds the pool of client CAs from a PEM file and the PEM
// files of a directory.
func loadCAs(file, dir string) (*x509.CertPool, error) {
	pool := x509.NewCertPool()
	if file != "" {
		b, err := os.ReadFile(file)
		if err != nil {
			return nil, fmt.Errorf("Failed to configure CA certificate(s) file/directory: %w", err)
		}
		if !pool.AppendCertsFromPEM(b) {
			return nil, fmt.Errorf("Failed to configure CA certificate(s) file/directory: no certificate in %s", file)
		}
	}
	if dir != "" {
		ents, err := os.ReadDir(dir)
		if err != nil {
			return nil, fmt.Errorf("Failed to configure CA certificate(s) file/directory: %w", err)
		}
		for _, e := range ents {
			if e.IsDir() {
				continue
			}
			b, err := os.ReadFile(filepath.Join(dir, e.Name()))
			if err != nil {
				continue
			}
			pool.AppendCertsFromPEM(b) // hash links and non-PEM files are skipped
		}
	}
	return pool, nil
}

// decryptKeyPEM returns the key PEM with its key block decrypted.
func decryptKeyPEM(keyPEM, pass []byte) ([]byte, error) {
	var out []byte
	rest := keyPEM
	for {
		var blk *pem.Block
		blk, rest = pem.Decode(rest)
		if blk == nil {
			break
		}
		switch {
		case blk.Type == "ENCRYPTED PRIVATE KEY":
			der, err := decryptPKCS8(blk.Bytes, pass)
			if err != nil {
				return nil, err
			}
			blk = &pem.Block{Type: "PRIVATE KEY", Bytes: der}
		//nolint:staticcheck // legacy OpenSSL encryption is what such files use
		case x509.IsEncryptedPEMBlock(blk):
			der, err := x509.DecryptPEMBlock(blk, pass) //nolint:staticcheck
			if err != nil {
				return nil, err
			}
			blk = &pem.Block{Type: blk.Type, Bytes: der}
		}
		out = append(out, pem.EncodeToMemory(blk)...)
	}
	if out == nil {
		return nil, errors.New("no PEM data")
	}
	return out, nil
}
