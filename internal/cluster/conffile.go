package cluster

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// NodesLines renders the nodes as CLUSTER NODES does, one line each;
// pong is the pong-received time shown for the other nodes (Unix ms),
// and, cut to the second, for this node when it knows others.
func (v *View) NodesLines(pong int64) []string {
	out := make([]string, 0, len(v.Nodes))
	for _, n := range v.Nodes {
		out = append(out, v.NodeLine(n, pong))
	}
	return out
}

// NodeLine renders n as CLUSTER NODES (and CLUSTER REPLICAS) does.
func (v *View) NodeLine(n *Node, pong int64) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s:%d@%d", n.ID, n.IP, n.Port, n.BusPort)
	if n.Hostname != "" {
		b.WriteString("," + n.Hostname)
	}
	b.WriteByte(' ')
	link := "connected"
	if n.Myself {
		b.WriteString("myself,")
	}
	master, epoch := "-", n.Epoch
	if m := v.MasterOf(n); m != nil {
		// a replica shows its master's config epoch (it announces it)
		b.WriteString("slave")
		master, epoch = m.ID, m.Epoch
	} else {
		b.WriteString("master")
	}
	if n.Fail && !n.Myself {
		b.WriteString(",fail")
		link = "disconnected"
	}
	if n.NoFailover { // on a master too, as Redis's clusterUpdateMyselfFlags
		b.WriteString(",nofailover")
	}
	if n.Myself {
		// Redis learns its own pong time from the other nodes' gossip,
		// in whole seconds (0 while it knows nobody)
		own := int64(0)
		if len(v.Nodes) > 1 {
			own = pong / 1000 * 1000
		}
		fmt.Fprintf(&b, " %s 0 %d ", master, own)
	} else {
		fmt.Fprintf(&b, " %s 0 %d ", master, pong)
	}
	fmt.Fprintf(&b, "%d %s", epoch, link)
	for _, r := range Ranges(v.State.Owner[:], n.ID) {
		if r.Start == r.End {
			fmt.Fprintf(&b, " %d", r.Start)
		} else {
			fmt.Fprintf(&b, " %d-%d", r.Start, r.End)
		}
	}
	if n.Myself {
		b.WriteString(v.migrationMarks())
	}
	return b.String()
}

// migrationMarks renders this node's MIGRATING and IMPORTING slots as
// CLUSTER NODES does: [slot->-target] and [slot-<-source].
func (v *View) migrationMarks() string {
	var slots []int
	for s := range v.migrating {
		slots = append(slots, s)
	}
	for s := range v.importing {
		if v.migrating[s] == nil {
			slots = append(slots, s)
		}
	}
	sort.Ints(slots)
	var b strings.Builder
	for _, s := range slots {
		if t := v.migrating[s]; t != nil {
			fmt.Fprintf(&b, " [%d->-%s]", s, t.ID)
		}
		if f := v.importing[s]; f != nil {
			fmt.Fprintf(&b, " [%d-<-%s]", s, f.ID)
		}
	}
	return b.String()
}

// writeConfigFile writes the configuration as Redis's nodes.conf
// (atomically: a temporary file renamed over it).
func writeConfigFile(path string, v *View) error {
	var b strings.Builder
	for _, l := range v.NodesLines(0) {
		b.WriteString(l)
		b.WriteByte('\n')
	}
	fmt.Fprintf(&b, "vars currentEpoch %d lastVoteEpoch 0\n", v.State.CurrentEpoch)
	tmp := path + ".tmp"
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	if err := os.WriteFile(tmp, []byte(b.String()), 0o644); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}

// readMyID returns the id of the line flagged myself in the config file
// at path ("" when there is no file).
func readMyID(path string) (string, error) {
	if path == "" {
		return "", nil
	}
	f, err := os.Open(path)
	if os.IsNotExist(err) {
		return "", nil
	}
	if err != nil {
		return "", err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fs := strings.Fields(sc.Text())
		if len(fs) >= 3 && strings.Contains(","+fs[2]+",", ",myself,") {
			if !validID(fs[0]) {
				return "", fmt.Errorf("cluster config file %s: bad node id %q", path, fs[0])
			}
			return fs[0], nil
		}
	}
	return "", sc.Err()
}

// validID reports whether id is 40 lowercase hex digits.
func validID(id string) bool {
	if len(id) != 40 {
		return false
	}
	for _, c := range id {
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f') {
			return false
		}
	}
	return true
}
