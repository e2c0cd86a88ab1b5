package difftest
import "testing"
func TestTmp(t *testing.T) { RunCorpus(t, "/tmp/strk-x.txt") }
