// Package aof implements Redis 7.0's multi-part append-only file: a
// manifest naming one base file (an RDB or an AOF) and the incremental
// files appended since, the writer with group commit, and the reader of
// AOF records.
package aof

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// File types in the manifest.
const (
	TypeBase    = 'b'
	TypeHistory = 'h'
	TypeIncr    = 'i'
)

// FileInfo is one manifest line.
type FileInfo struct {
	Name string
	Seq  int64
	Type byte
}

// Manifest lists an AOF's files.
type Manifest struct {
	Base    *FileInfo
	History []FileInfo
	Incrs   []FileInfo
}

// ManifestName returns the manifest's name for appendfilename.
func ManifestName(prefix string) string { return prefix + ".manifest" }

// BaseName returns a base file's name.
func BaseName(prefix string, seq int64, rdbPreamble bool) string {
	ext := ".aof"
	if rdbPreamble {
		ext = ".rdb"
	}
	return fmt.Sprintf("%s.%d.base%s", prefix, seq, ext)
}

// IncrName returns an incremental file's name.
func IncrName(prefix string, seq int64) string { return fmt.Sprintf("%s.%d.incr.aof", prefix, seq) }

// ErrEmptyManifest is a manifest naming neither a base nor an incremental
// file (Redis 7.0 refuses to start on it).
var ErrEmptyManifest = errors.New("found an empty AOF manifest")

// manifestMaxLine is Redis's MANIFEST_MAX_LINE: a manifest line (its
// newline included) fits in 1024 bytes.
const manifestMaxLine = 1024

var errManifestLongLine = errors.New("the AOF manifest file contains too long line")

// ParseManifest parses a manifest as Redis 7.0 writes it:
//
//	file appendonly.aof.1.base.rdb seq 1 type b
//	file appendonly.aof.1.incr.aof seq 1 type i
func ParseManifest(data []byte) (*Manifest, error) {
	m := &Manifest{}
	lines := strings.Split(string(data), "\n")
	if n := len(lines); n > 0 && lines[n-1] == "" {
		lines = lines[:n-1] // the last line's newline
	} else if n > 0 && !strings.HasPrefix(lines[n-1], "#") {
		// Redis reads lines of at most 1024 bytes with fgets and wants the
		// newline in each: a last line without one is "too long" too
		return nil, errManifestLongLine
	}
	for i, line := range lines {
		if strings.HasPrefix(line, "#") {
			continue
		}
		if len(line) >= manifestMaxLine {
			return nil, errManifestLongLine
		}
		// as Redis's aofLoadManifestFromFile: a blank line is an error
		line = strings.Trim(line, " \t\r")
		if line == "" {
			return nil, fmt.Errorf("invalid AOF manifest file format (line %d)", i+1)
		}
		f := strings.Fields(line)
		if len(f)%2 != 0 {
			return nil, fmt.Errorf("invalid AOF manifest file format (line %d)", i+1)
		}
		var fi FileInfo
		for j := 0; j < len(f); j += 2 {
			switch f[j] {
			case "file":
				fi.Name = unquote(f[j+1])
			case "seq":
				n, err := strconv.ParseInt(f[j+1], 10, 64)
				if err != nil {
					return nil, fmt.Errorf("invalid AOF manifest seq (line %d)", i+1)
				}
				fi.Seq = n
			case "type":
				fi.Type = f[j+1][0]
			}
		}
		if fi.Seq == 0 || fi.Type == 0 {
			// each line names a file, its sequence and its type
			return nil, fmt.Errorf("invalid AOF manifest file format (line %d)", i+1)
		}
		if fi.Name == "" || strings.ContainsAny(fi.Name, "/\\") {
			return nil, fmt.Errorf("invalid AOF manifest file name (line %d)", i+1)
		}
		switch fi.Type {
		case TypeBase:
			if m.Base != nil {
				return nil, fmt.Errorf("found duplicate base file information in AOF manifest")
			}
			b := fi
			m.Base = &b
		case TypeHistory:
			m.History = append(m.History, fi)
		case TypeIncr:
			if n := len(m.Incrs); n > 0 && m.Incrs[n-1].Seq >= fi.Seq {
				return nil, fmt.Errorf("found a non-monotonic sequence number in AOF manifest")
			}
			m.Incrs = append(m.Incrs, fi)
		default:
			return nil, fmt.Errorf("unknown AOF file type %q in manifest", fi.Type)
		}
	}
	if m.Base == nil && len(m.Incrs) == 0 {
		return nil, ErrEmptyManifest
	}
	return m, nil
}

func unquote(s string) string {
	if len(s) >= 2 && s[0] == '"' {
		if u, err := strconv.Unquote(s); err == nil {
			return u
		}
	}
	return s
}

// Bytes formats the manifest: base, history, then incremental files.
func (m *Manifest) Bytes() []byte {
	var b bytes.Buffer
	line := func(fi FileInfo) {
		fmt.Fprintf(&b, "file %s seq %d type %c\n", fi.Name, fi.Seq, fi.Type)
	}
	if m.Base != nil {
		line(*m.Base)
	}
	for _, fi := range m.History {
		line(fi)
	}
	for _, fi := range m.Incrs {
		line(fi)
	}
	return b.Bytes()
}

// LastIncrSeq is the highest incremental sequence (0 when none).
func (m *Manifest) LastIncrSeq() int64 {
	if len(m.Incrs) == 0 {
		return 0
	}
	return m.Incrs[len(m.Incrs)-1].Seq
}

// Clone returns a deep copy.
func (m *Manifest) Clone() *Manifest {
	c := &Manifest{History: append([]FileInfo(nil), m.History...), Incrs: append([]FileInfo(nil), m.Incrs...)}
	if m.Base != nil {
		b := *m.Base
		c.Base = &b
	}
	return c
}

// WriteFileAtomic writes data to dir/name through a temporary file, fsync
// and rename, then fsyncs the directory.
func WriteFileAtomic(dir, name string, data []byte) error {
	tmp := filepath.Join(dir, "temp-"+name)
	f, err := os.OpenFile(tmp, os.O_CREATE|os.O_TRUNC|os.O_WRONLY, 0o644)
	if err != nil {
		return err
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	if err := os.Rename(tmp, filepath.Join(dir, name)); err != nil {
		return err
	}
	return SyncDir(dir)
}

// SyncDir fsyncs a directory so that renames and creations in it last.
func SyncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}
