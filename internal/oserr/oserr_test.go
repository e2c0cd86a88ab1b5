package oserr

import (
	"errors"
	"fmt"
	"io"
	"os"
	"syscall"
	"testing"
)

func TestText(t *testing.T) {
	cases := []struct {
		err  error
		want string
	}{
		{syscall.ENOSPC, "No space left on device"},
		{syscall.EFBIG, "File too large"},
		{syscall.EIO, "Input/output error"},
		{&os.PathError{Op: "write", Path: "x", Err: syscall.EDQUOT}, "Disk quota exceeded"},
		{fmt.Errorf("aof: %w", syscall.EROFS), "Read-only file system"},
		{io.ErrShortWrite, "No space left on device"},
		{errors.New("something else"), "something else"},
	}
	for _, c := range cases {
		if got := Text(c.err); got != c.want {
			t.Errorf("Text(%v) = %q, want %q", c.err, got, c.want)
		}
	}
}
