package keyspace

import "unsafe"

// prefetch starts loading the cache line at p into the CPU caches and
// returns at once (PREFETCHT0). It never faults and reads nothing that
// the program sees, so p may be any address.
//
//go:noescape
func prefetch(p unsafe.Pointer)
