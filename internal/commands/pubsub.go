package commands

import (
	"fmt"
	"strings"

	"github.com/crescent-db/crescent/internal/cluster"
	"github.com/crescent-db/crescent/internal/command"
	"github.com/crescent-db/crescent/internal/pubsub"
	"github.com/crescent-db/crescent/internal/resp"
)

// registerPubSub attaches the pub/sub commands. Subscriptions live in
// h.PubSub; messages reach other clients through the sinks the server
// gives the hub.
func (h *Handlers) registerPubSub() {
	if h.PubSub == nil {
		return
	}
	t := h.Table
	none := command.WithLock(command.LockNone)
	t.Handle("subscribe", h.subscriber(pubsub.Channel, "subscribe"), none)
	t.Handle("psubscribe", h.subscriber(pubsub.Pattern, "psubscribe"), none)
	t.Handle("ssubscribe", h.subscriber(pubsub.Shard, "ssubscribe"), none)
	t.Handle("unsubscribe", h.unsubscriber(pubsub.Channel, "unsubscribe"), none)
	t.Handle("punsubscribe", h.unsubscriber(pubsub.Pattern, "punsubscribe"), none)
	t.Handle("sunsubscribe", h.unsubscriber(pubsub.Shard, "sunsubscribe"), none)
	t.Handle("publish", h.publish, none)
	t.Handle("spublish", h.spublish, none)
	t.Handle("pubsub|channels", h.pubsubChannels(pubsub.Channel), none)
	t.Handle("pubsub|shardchannels", h.pubsubChannels(pubsub.Shard), none)
	t.Handle("pubsub|numsub", h.pubsubNumSub(pubsub.Channel), none)
	t.Handle("pubsub|shardnumsub", h.pubsubNumSub(pubsub.Shard), none)
	t.Handle("pubsub|numpat", h.pubsubNumPat, none)
	t.Handle("pubsub|help", h.pubsubHelp, none)
	h.SubCounts = func(cl *command.Client) (int, int, int) { return h.PubSub.Counts(cl.ID) }
	h.chainReset(func(cl *command.Client) {
		h.PubSub.Remove(cl.ID)
		cl.Flags &^= command.ClientPubSub
	})
}

// subscriber returns the handler of SUBSCRIBE, PSUBSCRIBE or SSUBSCRIBE:
// one [kind, name, count] reply (a push in RESP3) per argument.
func (h *Handlers) subscriber(k pubsub.Kind, reply string) command.Handler {
	return func(c *command.Ctx) {
		if c.InScript || (k == pubsub.Shard && c.Client.Flags&command.ClientMulti != 0) {
			// run by EXEC, which denies blocking: Redis 7.0 lets SUBSCRIBE
			// and PSUBSCRIBE through there, not SSUBSCRIBE; a script's
			// client denies blocking always (DEBUG SET-DISABLE-DENY-SCRIPTS
			// lets scripts call them)
			c.Error("ERR " + strings.ToUpper(reply) + " isn't allowed for a DENY BLOCKING client")
			return
		}
		w, done := confirmations(c)
		for _, a := range c.Args[1:] {
			n := h.PubSub.Subscribe(c.Client.ID, k, string(a))
			w.Push(3)
			w.BulkString(reply)
			w.Bulk(a)
			w.Int(int64(n))
		}
		done()
		c.Client.Flags |= command.ClientPubSub
	}
}

// confirmations returns where (UN)SUBSCRIBE writes its confirmations, and
// a func to call once they are written. Redis sends them as pushes, which
// CLIENT REPLY OFF and SKIP do not silence: a muted client gets them among
// its pushes (Client.Out), others in its reply.
func confirmations(c *command.Ctx) (resp.ReplyWriter, func()) {
	cl := c.Client
	if cl.Flags&command.ClientRepliesMuted == 0 || cl.Out == nil {
		return c.W, func() {}
	}
	w := &resp.Writer{Buf: *cl.Out, Proto: cl.Proto}
	return w, func() { *cl.Out = w.Buf }
}

// unsubscriber returns the handler of UNSUBSCRIBE, PUNSUBSCRIBE or
// SUNSUBSCRIBE. Without arguments it leaves every subscription of its
// kind, replying once with a null name when there was none.
func (h *Handlers) unsubscriber(k pubsub.Kind, reply string) command.Handler {
	return func(c *command.Ctx) {
		id := c.Client.ID
		names := c.Args[1:]
		w, done := confirmations(c)
		defer done()
		if len(names) == 0 {
			subs := h.PubSub.Subscriptions(id, k)
			if len(subs) == 0 {
				n := 0
				sub, psub, ssub := h.PubSub.Counts(id)
				if k == pubsub.Shard {
					n = ssub
				} else {
					n = sub + psub
				}
				w.Push(3)
				w.BulkString(reply)
				w.Null()
				w.Int(int64(n))
			}
			for _, s := range subs {
				n := h.PubSub.Unsubscribe(id, k, s)
				w.Push(3)
				w.BulkString(reply)
				w.BulkString(s)
				w.Int(int64(n))
			}
		} else {
			for _, a := range names {
				n := h.PubSub.Unsubscribe(id, k, string(a))
				w.Push(3)
				w.BulkString(reply)
				w.Bulk(a)
				w.Int(int64(n))
			}
		}
		if h.PubSub.Total(id) == 0 {
			c.Client.Flags &^= command.ClientPubSub
		}
	}
}

// publish is PUBLISH: this node's subscribers, then (cluster mode) every
// other node's over the bus, as Redis's clusterPropagatePublish; outside
// cluster mode, the replicas' through the replication stream. The reply
// counts this node's receivers, as in Redis.
func (h *Handlers) publish(c *command.Ctx) {
	c.W.Int(int64(h.PubSub.PublishFrom(c.Args[1], c.Args[2], publisher(c))))
	if h.Cluster != nil {
		h.Cluster.Publish(false, 0, c.Args[1], c.Args[2])
	}
	c.ReplicasOnly = h.Exec.Cluster == nil
}

// spublish is SPUBLISH; in cluster mode the nodes of the channel's shard
// (its slot's master and replicas) get it over the bus.
func (h *Handlers) spublish(c *command.Ctx) {
	c.W.Int(int64(h.PubSub.SPublishFrom(c.Args[1], c.Args[2], publisher(c))))
	if h.Cluster != nil {
		h.Cluster.Publish(true, cluster.KeySlot(c.Args[1]), c.Args[1], c.Args[2])
	}
	c.ReplicasOnly = h.Exec.Cluster == nil
}

// publisher has a client's messages to itself written inline, before
// PUBLISH's reply (or the script's, or inside EXEC's array), as Redis does
// (pubsub.Self).
func publisher(c *command.Ctx) pubsub.Self { return PushSelf(c.Client) }

// PushSelf is the pubsub.Self of client cl (or, for a script's client, of
// the client that ran the script): its messages to itself are appended to
// its connection's reply buffer (command.Client.Out) as they are
// published, so they come before its command's reply, as Redis 7.0 writes
// them (also under CLIENT REPLY OFF or SKIP, which silence replies, not
// pushes). A client without such a buffer gets them through its sink.
func PushSelf(cl *command.Client) pubsub.Self {
	if cl == nil {
		return pubsub.Self{}
	}
	if cl.Caller != nil {
		cl = cl.Caller
	}
	if cl.Out == nil {
		return pubsub.Self{}
	}
	return pubsub.Self{ID: cl.ID, Buf: cl.Out, Proto: cl.Proto}
}

func (h *Handlers) pubsubChannels(k pubsub.Kind) command.Handler {
	return func(c *command.Ctx) {
		if len(c.Args) > 3 {
			c.Error(fmt.Sprintf("ERR unknown subcommand or wrong number of arguments for '%s'. Try PUBSUB HELP.", c.Args[1]))
			return
		}
		var chans []string
		if len(c.Args) == 3 {
			chans = h.PubSub.Channels(k, string(c.Args[2]), true)
		} else {
			chans = h.PubSub.Channels(k, "", false)
		}
		c.W.Array(len(chans))
		for _, ch := range chans {
			c.W.BulkString(ch)
		}
	}
}

func (h *Handlers) pubsubNumSub(k pubsub.Kind) command.Handler {
	return func(c *command.Ctx) {
		c.W.Array(2 * (len(c.Args) - 2))
		for _, a := range c.Args[2:] {
			c.W.Bulk(a)
			c.W.Int(int64(h.PubSub.NumSub(k, string(a))))
		}
	}
}

func (h *Handlers) pubsubNumPat(c *command.Ctx) { c.W.Int(int64(h.PubSub.NumPatterns())) }

func (h *Handlers) pubsubHelp(c *command.Ctx) {
	lines := []string{
		"PUBSUB <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
		"CHANNELS [<pattern>]",
		"    Return the currently active channels matching a <pattern> (default: '*').",
		"NUMPAT",
		"    Return number of subscriptions to patterns.",
		"NUMSUB [<channel> ...]",
		"    Return the number of subscribers for the specified channels, excluding",
		"    pattern subscriptions(default: no channels).",
		"SHARDCHANNELS [<pattern>]",
		"    Return the currently active shard level channels matching a <pattern> (default: '*').",
		"SHARDNUMSUB [<shardchannel> ...]",
		"    Return the number of subscribers for the specified shard level channel(s)",
		"HELP",
		"    Prints this help.",
	}
	c.W.Array(len(lines))
	for _, l := range lines {
		c.W.Simple(l)
	}
}

// pubsubGone drops a closed client's subscriptions.
func (h *Handlers) pubsubGone(cl *command.Client) {
	if h.PubSub != nil {
		h.PubSub.Remove(cl.ID)
	}
}

// pubsubCount returns the number of active channels, patterns or shard
// channels for INFO (0 without a hub).
func (h *Handlers) pubsubCount(k pubsub.Kind) int {
	switch {
	case h.PubSub == nil:
		return 0
	case k == pubsub.Pattern:
		return h.PubSub.NumPatterns()
	case k == pubsub.Shard:
		return h.PubSub.NumShardChannels()
	}
	return h.PubSub.NumChannels()
}
