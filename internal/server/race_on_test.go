//go:build race

package server_test

// raceEnabled: the tests run under the race detector (go test -race),
// where code runs 5-20x slower.
const raceEnabled = true
