package server

import (
	"fmt"
	"net"
	"path/filepath"
	"strings"
	"time"

	"github.com/crescent-db/crescent/internal/cluster"
	"github.com/crescent-db/crescent/internal/pubsub"
)

// startCluster starts this server's cluster node (cluster-enabled yes):
// the bus on cluster-port (default port+10000), raft state in dir, the
// node id in cluster-config-file. The executor routes commands through it
// and CLUSTER serves it from then on. stop closes it.
func (s *Server) startCluster() (stop func(), err error) {
	port := s.Port()
	if ap := int(s.cfg.Int("cluster-announce-port")); ap != 0 {
		port = ap
	}
	bus := int(s.cfg.Int("cluster-port"))
	if bus == 0 {
		bus = s.Port() + 10000
	}
	if bus > 65535 {
		return nil, fmt.Errorf("cluster bus port %d out of range (set cluster-port)", bus)
	}
	bind := ""
	if f := strings.Fields(s.cfg.Get("bind")); len(f) > 0 {
		bind = strings.TrimPrefix(f[0], "-")
		if bind == "*" || bind == "0.0.0.0" {
			bind = ""
		}
	}
	dir := s.cfg.Get("dir")
	file := s.cfg.Get("cluster-config-file")
	if !filepath.IsAbs(file) && filepath.IsAbs(dir) {
		file = filepath.Join(dir, file)
	}
	if !filepath.IsAbs(dir) {
		dir = "." // the process runs in dir (cmd/crescent chdirs there)
	}
	n, err := cluster.Start(cluster.Config{Dir: dir, ConfigFile: file, IP: s.cfg.Get("cluster-announce-ip"),
		BindIP: bind, Port: port, BusPort: bus, Logger: s.log,
		NodeTimeout: time.Duration(s.cfg.Int("cluster-node-timeout")) * time.Millisecond})
	if err != nil {
		return nil, err
	}
	s.cfg.OnChange("cluster-announce-port", func(string) {
		p := int(s.cfg.Int("cluster-announce-port"))
		if p == 0 {
			p = s.Port()
		}
		n.SetAnnouncedPort(p)
	})
	// cluster-announce-hostname is announced to the other nodes;
	// cluster-preferred-endpoint-type is how this node gives addresses
	n.SetAnnouncedHostname(s.cfg.Get("cluster-announce-hostname"))
	s.cfg.OnChange("cluster-announce-hostname", func(v string) { n.SetAnnouncedHostname(v) })
	n.SetEndpointType(cluster.ParseEndpointType(s.cfg.Get("cluster-preferred-endpoint-type")))
	s.cfg.OnChange("cluster-preferred-endpoint-type", func(v string) { n.SetEndpointType(cluster.ParseEndpointType(v)) })
	n.SetReadsWhenDown(s.cfg.Bool("cluster-allow-reads-when-down"))
	n.SetRequireFullCoverage(s.cfg.Bool("cluster-require-full-coverage"))
	s.cfg.OnChange("cluster-require-full-coverage", func(v string) { n.SetRequireFullCoverage(v == "yes") })
	s.cfg.OnChange("cluster-allow-reads-when-down", func(v string) { n.SetReadsWhenDown(v == "yes") })
	migration := func(string) {
		n.SetReplicaMigration(s.cfg.Bool("cluster-allow-replica-migration"), int(s.cfg.Int("cluster-migration-barrier")))
	}
	migration("")
	limits := func(string) {
		n.SetFailoverLimits(s.cfg.Bool("cluster-replica-no-failover"), int(s.cfg.Int("cluster-replica-validity-factor")),
			time.Duration(s.cfg.Int("repl-ping-replica-period"))*time.Second)
	}
	limits("")
	for _, name := range []string{"cluster-replica-no-failover", "cluster-replica-validity-factor", "repl-ping-replica-period"} {
		s.cfg.OnChange(name, limits)
	}
	s.cfg.OnChange("cluster-allow-replica-migration", migration)
	s.cfg.OnChange("cluster-migration-barrier", migration)
	s.exec.Cluster = n
	s.cmds.Cluster = n
	// messages published on other nodes, to this node's subscribers
	n.SetDeliver(func(shard bool, channel, message []byte) {
		if shard {
			s.pubsub.SPublishFrom(channel, message, pubsub.Self{})
		} else {
			s.pubsub.PublishFrom(channel, message, pubsub.Self{})
		}
	})
	// slots this node's shard no longer serves: their shard channels'
	// subscribers are unsubscribed, and a master deletes its keys of the
	// slots another node took (cluster.md, "Slots lost")
	s.exec.Subscribed = s.pubsub.Subscribed
	n.SetOnLost(func(l cluster.LostSlots) {
		if chans := s.pubsub.ShardChannelsInSlots(l.Channels, cluster.KeySlot); len(chans) > 0 {
			s.pubsub.DropShardChannels(chans)
		}
		slots := l.Keys
		if len(slots) == 0 {
			return
		}
		// not on the goroutine applying the raft log: a command holding
		// the keyspace may be waiting for that log (a change it proposed)
		go func() {
			gone := func(slot int) bool { // and still a master: a replica's data is its master's
				v := n.View()
				o := v.Owner(slot)
				return (o == nil || !o.Myself) && v.Importing(slot) == nil && v.Myself != nil && v.Myself.Master == ""
			}
			if k := s.exec.DropSlotKeys(slots, gone); k > 0 {
				s.log.Info("Deleted the keys of slots served by another node", "keys", k, "slots", len(slots))
			}
		}()
	})
	if r := s.cmds.ClusterReplication(); r != nil {
		n.SetReplication(r) // replicas and failover follow the configuration
	}
	s.log.Info("Cluster node started", "id", n.ID(), "bus", net.JoinHostPort(bind, fmt.Sprint(bus)))
	return func() { n.Close() }, nil
}
