package main

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"strings"
	"testing"
)

func TestNewLogger(t *testing.T) {
	var b bytes.Buffer
	l, err := newLogger("json", &b, slog.LevelInfo)
	if err != nil {
		t.Fatal(err)
	}
	l.Warn("slow script", "script", "abc")
	var m map[string]any
	if err := json.Unmarshal(b.Bytes(), &m); err != nil || m["msg"] != "slow script" || m["script"] != "abc" {
		t.Fatalf("json log line %q: %v", b.String(), err)
	}
	b.Reset()
	l, _ = newLogger("text", &b, slog.LevelInfo)
	l.Info("hello")
	if !strings.Contains(b.String(), "msg=hello") {
		t.Fatalf("text log line %q", b.String())
	}
	if _, err := newLogger("xml", &b, slog.LevelInfo); err == nil {
		t.Fatal("xml accepted")
	}
}
