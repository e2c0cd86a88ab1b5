// CRESCENT: this file is not part of upstream gopher-lua.

//go:build !amd64

package lua

import "runtime"

// glibcFMA is whether glibc's libm was built with FMA contractions: on
// arm64 gcc contracts a*b + c by default; elsewhere this fork assumes not.
var glibcFMA = runtime.GOARCH == "arm64"
