package config

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
)

// Validators and setters of Redis 7.0's special directives (config.c).

// isValidActiveDefrag: Crescent has no active defragmentation; the answer
// is the one of a Redis built without jemalloc's defrag support (the
// reference redis-server 7.0.15 gives it too).
func isValidActiveDefrag(on bool) error {
	if on {
		return errors.New("Active defragmentation cannot be enabled: it requires a Redis server compiled with a modified Jemalloc like the one shipped by default with the Redis source distribution")
	}
	return nil
}

func pathIsBaseName(p string) bool { return !strings.ContainsAny(p, "/\\") }

func isValidDBfilename(v string) error {
	if !pathIsBaseName(v) {
		return errors.New("dbfilename can't be a path, just a filename")
	}
	return nil
}

func isValidAOFfilename(v string) error {
	if v == "" {
		return errors.New("appendfilename can't be empty")
	}
	if !pathIsBaseName(v) {
		return errors.New("appendfilename can't be a path, just a filename")
	}
	return nil
}

func isValidAOFdirname(v string) error {
	if v == "" {
		return errors.New("appenddirname can't be empty")
	}
	if !pathIsBaseName(v) {
		return errors.New("appenddirname can't be a path, just a dirname")
	}
	return nil
}

func isValidAnnouncedHostname(v string) error {
	if len(v) >= 256 {
		return errors.New("Hostnames must be less than 256 characters")
	}
	for i := 0; i < len(v); i++ {
		c := v[i]
		if !(c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '.') {
			return errors.New("Hostnames may only contain alphanumeric characters, hyphens or dots")
		}
	}
	return nil
}

// isValidProcTitleTemplate is Redis's validateProcTitleTemplate: the
// template ({{ quotes a brace) expands with known variables only, and with
// an empty title to something but spaces. title, server-mode (standalone),
// unixsocket and config-file expand empty here, listen-addr, port and
// tls-port never do.
func isValidProcTitleTemplate(t string) error {
	bad := errors.New("template format is invalid or contains unknown variables")
	var out strings.Builder
	for p := t; p != ""; {
		i := strings.IndexByte(p, '{')
		if i < 0 {
			out.WriteString(p)
			break
		}
		out.WriteString(p[:i])
		p = p[i+1:]
		if p == "" {
			return bad
		}
		if p[0] == '{' {
			out.WriteByte('{')
			p = p[1:]
			continue
		}
		j := strings.IndexByte(p, '}')
		if j < 0 {
			return bad
		}
		switch p[:j] {
		case "title", "server-mode", "unixsocket", "config-file":
		case "listen-addr", "port", "tls-port":
			out.WriteString("x")
		default:
			return bad
		}
		p = p[j+1:]
	}
	if strings.Trim(out.String(), " ") == "" {
		return bad
	}
	return nil
}

// Strtoll is strtoll(s, &end, 10) with *end == '\0' (see strtoll10).
func Strtoll(s string) (int64, bool) { return strtoll10(s) }

// strtoll10 is strtoll(s, &end, 10) with *end == '\0' required: leading
// white space and a sign are accepted, overflow saturates, and no digits
// at all is 0 only when s is empty (end stays at s).
func strtoll10(s string) (int64, bool) {
	t := strings.TrimLeft(s, " \t\n\v\f\r")
	neg := false
	if t != "" && (t[0] == '+' || t[0] == '-') {
		neg = t[0] == '-'
		t = t[1:]
	}
	if t == "" {
		return 0, s == ""
	}
	var v uint64
	over := false
	for i := 0; i < len(t); i++ {
		if t[i] < '0' || t[i] > '9' {
			return 0, false
		}
		if !over {
			v = v*10 + uint64(t[i]-'0')
			if v > uint64(math.MaxInt64)+1 {
				over = true
			}
		}
	}
	switch {
	case neg && (over || v > uint64(math.MaxInt64)):
		return math.MinInt64, true
	case neg:
		return -int64(v), true
	case over || v > math.MaxInt64:
		return math.MaxInt64, true
	}
	return int64(v), true
}

// setSave is setConfigSaveOption: pairs of seconds (>= 1) and changes
// (>= 0). CONFIG GET shows the seconds as time_t and the changes as int.
func setSave(args []string) (string, error) {
	if len(args) == 1 && args[0] == "" {
		args = nil
	}
	if len(args)%2 != 0 {
		return "", errors.New("Invalid save parameters")
	}
	parts := make([]string, 0, len(args))
	for j, a := range args {
		v, ok := strtoll10(a)
		if !ok || j%2 == 0 && v < 1 || j%2 == 1 && v < 0 {
			return "", errors.New("Invalid save parameters")
		}
		if j%2 == 1 {
			v = int64(int32(v))
		}
		parts = append(parts, strconv.FormatInt(v, 10))
	}
	return strings.Join(parts, " "), nil
}

// setOOMScoreAdjValues is setConfigOOMScoreAdjValuesOption.
func setOOMScoreAdjValues(args []string) (string, error) {
	if len(args) != 3 {
		return "", errors.New("wrong number of arguments")
	}
	parts := make([]string, 3)
	for i, a := range args {
		v, ok := strtoll10(a)
		if !ok || v < -2000 || v > 2000 {
			return "", errors.New("Invalid oom-score-adj-values, elements must be between -2000 and 2000.")
		}
		parts[i] = strconv.FormatInt(v, 10)
	}
	return strings.Join(parts, " "), nil
}

// setBind is setConfigBindOption (Crescent does not rebind at run time).
func setBind(args []string) (string, error) {
	if len(args) > 16 {
		return "", errors.New("Too many bind addresses specified.")
	}
	if len(args) == 1 && args[0] == "" {
		args = nil
	}
	return strings.Join(args, " "), nil
}

// setReplicaOf is setConfigReplicaOfOption ("no one", or host and port).
func setReplicaOf(args []string) (string, error) {
	if len(args) != 2 {
		return "", errors.New("wrong number of arguments")
	}
	if strings.EqualFold(args[0], "no") && strings.EqualFold(args[1], "one") {
		return "", nil
	}
	p, ok := strtoll10(args[1])
	if !ok || args[1] == "" || p < 0 || p > 65535 {
		return "", errors.New("Invalid master port")
	}
	return args[0] + " " + strconv.FormatInt(p, 10), nil
}

// setLatencyPercentiles is setConfigLatencyTrackingInfoPercentilesOutputOption.
func setLatencyPercentiles(args []string) (string, error) {
	if len(args) == 1 && args[0] == "" {
		args = nil
	}
	parts := make([]string, 0, len(args))
	for _, a := range args {
		f, ok := string2d(a)
		if !ok {
			return "", errors.New("Invalid latency-tracking-info-percentiles parameters")
		}
		if f > 100 || f < 0 {
			return "", errors.New("latency-tracking-info-percentiles parameters should sit between [0.0,100.0]")
		}
		parts = append(parts, trimDouble(fmt.Sprintf("%f", f)))
	}
	return strings.Join(parts, " "), nil
}

// trimDouble is Redis's trimDoubleString: trailing zeros after the point,
// and then the point, go.
func trimDouble(s string) string {
	if strings.Contains(s, ".") {
		s = strings.TrimRight(s, "0")
		s = strings.TrimSuffix(s, ".")
	}
	return s
}

// string2d is Redis's string2d: strtod over the whole string (hex floats,
// inf accepted), no leading space, no overflow or underflow, not NaN.
func string2d(s string) (float64, bool) {
	if s == "" || strings.ContainsRune(" \t\n\v\f\r", rune(s[0])) || strings.Contains(s, "_") {
		return 0, false
	}
	t := s
	body := strings.TrimLeft(t, "+-")
	if len(body) > 1 && body[0] == '0' && (body[1] == 'x' || body[1] == 'X') && !strings.ContainsAny(body, "pP") {
		t += "p0" // strtod's hex floats need no exponent, Go's do
	}
	f, err := strconv.ParseFloat(t, 64)
	if err != nil || math.IsNaN(f) {
		return 0, false
	}
	if f == 0 && strings.ContainsAny(mantissa(body), "123456789abcdefABCDEF") && !isHexOrInfWord(body) {
		return 0, false // underflow: strtod's ERANGE with a zero result
	}
	return f, true
}

func mantissa(s string) string {
	if len(s) > 1 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X') {
		if i := strings.IndexAny(s, "pP"); i >= 0 {
			return s[2:i]
		}
		return s[2:]
	}
	if i := strings.IndexAny(s, "eE"); i >= 0 {
		return s[:i]
	}
	return s
}

func isHexOrInfWord(s string) bool {
	l := strings.ToLower(s)
	return l == "inf" || l == "infinity"
}
