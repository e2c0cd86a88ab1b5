package difftest

import "testing"

// TestCorpus runs every testdata/*.txt corpus file against Redis and
// Crescent.
func TestCorpus(t *testing.T) {
	RunCorpusDir(t, "testdata/*.txt")
}
