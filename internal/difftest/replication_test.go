package difftest

import "testing"

// TestCorpusReplication runs the replication corpora, each against servers
// started in the state it needs: a master with min-replicas-to-write and no
// replica, a master without replicas (WAIT), and (REPLICAOF in the corpus)
// a replica whose master is unreachable (stale data refused, and
// BITFIELD/BITFIELD_RO on a read-only replica).
func TestCorpusReplication(t *testing.T) {
	t.Run("min_replicas", func(t *testing.T) {
		RunCorpus(t, "testdata/replication/min_replicas.txt", "--min-replicas-to-write", "1")
	})
	t.Run("wait", func(t *testing.T) {
		RunCorpus(t, "testdata/replication/wait.txt")
	})
	t.Run("stale_replica", func(t *testing.T) {
		RunCorpus(t, "testdata/replication/stale_replica.txt")
	})
	t.Run("bitfield_replica", func(t *testing.T) {
		RunCorpus(t, "testdata/replication/bitfield_replica.txt")
	})
}
