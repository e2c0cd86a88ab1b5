package commands

import "github.com/crescent-db/crescent/internal/keyspace"

// newListValue builds the list value SORT ... STORE writes from elems,
// which are owned copies.
func newListValue(elems [][]byte) any { return keyspace.ListFrom(elems) }
