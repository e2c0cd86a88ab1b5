package difftest

import "testing"

// TestProtectedActions checks Redis 7's defaults for what can take over a
// host: DEBUG is refused, and CONFIG SET cannot move dir or dbfilename
// (else SAVE writes a file wherever a client likes).
func TestProtectedActions(t *testing.T) {
	StartPair(t, "--enable-debug-command", "no").Run(t, "protected", `
DEBUG SLEEP 0
DEBUG HELP
CONFIG SET dir /tmp
CONFIG SET dbfilename authorized_keys
CONFIG SET maxmemory 0 dbfilename x.rdb
CONFIG SET enable-debug-command yes
CONFIG SET enable-protected-configs yes
`)
	// "local" allows both from a loopback client.
	StartPair(t, "--enable-debug-command", "local", "--enable-protected-configs", "local").Run(t, "local", `
DEBUG SLEEP 0
CONFIG SET dbfilename dump2.rdb
CONFIG GET dbfilename
`)
}

// TestConfigEnums checks directives whose values go beyond yes/no.
func TestConfigEnums(t *testing.T) {
	StartPair(t).Run(t, "enums", `
CONFIG SET oom-score-adj relative
CONFIG GET oom-score-adj
CONFIG SET oom-score-adj absolute
CONFIG GET oom-score-adj
CONFIG SET oom-score-adj YES
CONFIG GET oom-score-adj
CONFIG SET oom-score-adj maybe
CONFIG SET oom-score-adj no
CONFIG SET tls-auth-clients optional
CONFIG GET tls-auth-clients
CONFIG SET tls-auth-clients yes
CONFIG GET enable-debug-command
CONFIG GET enable-protected-configs
`)
}
