// Package oserr words operating-system errors as Redis does: glibc's
// strerror text for the errno ("No space left on device"), where Go's
// text starts with a lower-case letter.
package oserr

import (
	"errors"
	"io"
	"syscall"
)

// Errno returns err's errno, and whether it has one. A short write
// (io.ErrShortWrite) counts as ENOSPC, as Redis reports it.
func Errno(err error) (syscall.Errno, bool) {
	var no syscall.Errno
	if errors.As(err, &no) {
		return no, true
	}
	if errors.Is(err, io.ErrShortWrite) {
		return syscall.ENOSPC, true
	}
	return 0, false
}

// Text is strerror's text for err's errno, else err's own text.
func Text(err error) string {
	if no, ok := Errno(err); ok {
		return Strerror(no)
	}
	return err.Error()
}

// Strerror is glibc's strerror text for errno e: Go's text with its first
// letter in upper case, which is glibc's wording for the errors a file
// or socket gives.
func Strerror(e syscall.Errno) string {
	s := e.Error()
	if s != "" && s[0] >= 'a' && s[0] <= 'z' {
		s = string(s[0]-'a'+'A') + s[1:]
	}
	return s
}
