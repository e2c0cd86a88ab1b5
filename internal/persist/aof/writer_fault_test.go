package aof

import (
	"bytes"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// faultFile is an in-memory append-only File whose writes, fsyncs and
// truncations fail on demand: room limits how many bytes the file can
// hold (a write past it is short, then fails with EFBIG, as under
// RLIMIT_FSIZE), and the err fields make calls fail.
type faultFile struct {
	mu          sync.Mutex
	data        []byte
	room        int // -1: unlimited
	writeErr    error
	syncErr     error
	truncateErr error
	writes      int
	syncs       int
}

func (f *faultFile) Write(p []byte) (int, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.writes++
	if f.writeErr != nil {
		return 0, f.writeErr
	}
	if f.room >= 0 && len(f.data)+len(p) > f.room {
		n := f.room - len(f.data)
		if n < 0 {
			n = 0
		}
		f.data = append(f.data, p[:n]...)
		return n, syscall.EFBIG
	}
	f.data = append(f.data, p...)
	return len(p), nil
}

func (f *faultFile) Sync() error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.syncs++
	return f.syncErr
}

func (f *faultFile) Truncate(n int64) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.truncateErr != nil {
		return f.truncateErr
	}
	f.data = f.data[:n]
	return nil
}

func (f *faultFile) Close() error { return nil }

func (f *faultFile) set(fn func(f *faultFile)) {
	f.mu.Lock()
	fn(f)
	f.mu.Unlock()
}

func (f *faultFile) content() string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return string(f.data)
}

func setCmd(k, v string) [][][]byte { return [][][]byte{{[]byte("SET"), []byte(k), []byte(v)}} }

// waitStatus waits until the writer's status is ok (want "") or names
// want.
func waitStatus(t *testing.T, w *Writer, want string) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		ok, text := w.Status()
		if ok && want == "" || !ok && text == want {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("status ok=%v %q, want %q", ok, text, want)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// TestWriterWriteErrorRetried: under everysec and no, a failed write
// keeps its bytes and is retried until it succeeds; Status names the
// error meanwhile, with Redis's wording (a short write is ENOSPC), and the
// file ends holding every record once, in order.
func TestWriterWriteErrorRetried(t *testing.T) {
	first := string(AppendCommand(nil, [][]byte{[]byte("SELECT"), []byte("0")})) + string(AppendCommand(nil, setCmd("a", "1")[0]))
	cases := []struct {
		name     string
		policy   int
		fault    func(f *faultFile)
		want     string
		truncErr bool
	}{
		{"no room everysec", FsyncEverySec, func(f *faultFile) { f.room = len(first) }, "File too large", false},
		{"short write no", FsyncNo, func(f *faultFile) { f.room = len(first) + 7 }, "No space left on device", false},
		{"short write not truncated", FsyncEverySec, func(f *faultFile) { f.room = len(first) + 7; f.truncateErr = syscall.EIO }, "No space left on device", true},
		{"io error", FsyncEverySec, func(f *faultFile) { f.writeErr = syscall.EIO }, "Input/output error", false},
		{"disk quota", FsyncNo, func(f *faultFile) { f.writeErr = syscall.EDQUOT }, "Disk quota exceeded", false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			f := &faultFile{room: -1}
			var mu sync.Mutex
			changes := 0
			w := NewWriter(f, 0, c.policy, 0, Hooks{
				Fatal:         func(msg string) { t.Errorf("fatal %q under policy %d", msg, c.policy) },
				StatusChanged: func() { mu.Lock(); changes++; mu.Unlock() },
			})
			defer w.Close()
			w.Append(0, setCmd("a", "1"))
			if err := w.Flush(); err != nil {
				t.Fatal(err)
			}
			f.set(c.fault)
			w.Append(0, setCmd("b", "22"))
			waitStatus(t, w, c.want)
			if err := w.Flush(); err == nil {
				t.Fatal("Flush did not report the write error")
			}
			if err := w.WaitDurable(w.End()); err == nil {
				t.Fatal("WaitDurable did not report the write error")
			}
			if !c.truncErr && f.content() != first {
				t.Fatalf("the failed write left %q in the file", f.content()[len(first):])
			}
			w.Append(0, setCmd("c", "333")) // appended behind the failed bytes
			f.set(func(f *faultFile) { f.room = -1; f.writeErr = nil })
			waitStatus(t, w, "")
			if err := w.Flush(); err != nil {
				t.Fatal(err)
			}
			want := first + string(AppendCommand(nil, setCmd("b", "22")[0])) + string(AppendCommand(nil, setCmd("c", "333")[0]))
			if got := f.content(); got != want {
				t.Fatalf("file after recovery:\n got %q\nwant %q", got, want)
			}
			if w.Size() != int64(len(want)) {
				t.Fatalf("Size %d, file %d", w.Size(), len(want))
			}
			mu.Lock()
			defer mu.Unlock()
			wantChanges := 2 // err, then ok
			if c.truncErr {
				wantChanges = 3 // the retry of the rest fails with EFBIG: the text changes
			}
			if changes != wantChanges {
				t.Fatalf("StatusChanged called %d times, want %d", changes, wantChanges)
			}
		})
	}
}

// TestWriterAlwaysFatal: under appendfsync always a failed write or
// fsync cannot be recovered (the change is in memory and was maybe seen):
// Fatal gets Redis's message, and every waiter fails.
func TestWriterAlwaysFatal(t *testing.T) {
	cases := []struct {
		name  string
		fault func(f *faultFile)
		want  string
	}{
		{"write", func(f *faultFile) { f.writeErr = syscall.ENOSPC }, "Can't recover from AOF write error when the AOF fsync policy is 'always'. Exiting..."},
		{"short write", func(f *faultFile) { f.room = 3 }, "Can't recover from AOF write error when the AOF fsync policy is 'always'. Exiting..."},
		{"fsync", func(f *faultFile) { f.syncErr = syscall.EIO }, "Can't persist AOF for fsync error when the AOF fsync policy is 'always': Input/output error. Exiting..."},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			f := &faultFile{room: -1}
			got := make(chan string, 4)
			w := NewWriter(f, 0, FsyncAlways, 0, Hooks{Fatal: func(msg string) { got <- msg }})
			defer w.Close()
			f.set(c.fault)
			end := w.Append(0, setCmd("a", "1"))
			if err := w.WaitDurable(end); err == nil {
				t.Fatal("WaitDurable succeeded")
			}
			select {
			case msg := <-got:
				if msg != c.want {
					t.Fatalf("fatal %q, want %q", msg, c.want)
				}
			case <-time.After(5 * time.Second):
				t.Fatal("Fatal not called")
			}
		})
	}
}

// TestWriterEverysecFsyncError: a failed everysec fsync is reported until
// an fsync succeeds; the data stays written, and a later fsync covers it
// without new writes.
func TestWriterEverysecFsyncError(t *testing.T) {
	f := &faultFile{room: -1, syncErr: syscall.EIO}
	w := NewWriter(f, 0, FsyncEverySec, 0, Hooks{Fatal: func(msg string) { t.Errorf("fatal %q", msg) }})
	defer w.Close()
	w.Append(0, setCmd("a", "1"))
	if err := w.Flush(); err == nil {
		t.Fatal("Flush did not report the fsync error")
	}
	waitStatus(t, w, "Input/output error")
	f.set(func(f *faultFile) { f.syncErr = nil })
	waitStatus(t, w, "") // within a second or so, with nothing new appended
	if !strings.Contains(f.content(), "SET") {
		t.Fatalf("file %q", f.content())
	}
}

// TestWriterSwitchKeepsPreCutBytes: a rewrite's Switch refuses while the
// old file cannot take what is buffered (those bytes are effects before
// the cut), and the writer keeps appending to the old file.
func TestWriterSwitchKeepsPreCutBytes(t *testing.T) {
	f := &faultFile{room: 0}
	w := NewWriter(f, 0, FsyncNo, 0, Hooks{})
	defer w.Close()
	w.Append(0, setCmd("a", "1"))
	g := &faultFile{room: -1}
	if old, err := w.Switch(g); err == nil || old != nil {
		t.Fatalf("Switch = %v, %v; want an error", old, err)
	}
	f.set(func(f *faultFile) { f.room = -1 })
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(f.content(), "SET") || g.content() != "" {
		t.Fatalf("old %q new %q", f.content(), g.content())
	}
	if old, err := w.Switch(g); err != nil || old != File(f) {
		t.Fatalf("second Switch = %v, %v", old, err)
	}
}

// TestWriterEverysecSyncsLater: data written within a second of the last
// fsync is fsynced at a later tick, without a new append.
func TestWriterEverysecSyncsLater(t *testing.T) {
	f := &faultFile{room: -1}
	w := NewWriter(f, 0, FsyncEverySec, 0, Hooks{})
	defer w.Close()
	w.Append(0, setCmd("a", "1"))
	w.Flush() // an fsync now
	w.Append(0, setCmd("b", "1"))
	deadline := time.Now().Add(5 * time.Second)
	for {
		f.mu.Lock()
		n, ok := f.syncs, bytes.Contains(f.data, []byte("b"))
		f.mu.Unlock()
		if n >= 2 && ok {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d fsyncs", n)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
