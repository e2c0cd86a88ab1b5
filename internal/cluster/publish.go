package cluster

import (
	"bufio"
	"encoding/json"
	"net"
	"sync"
	"time"
)

// Pub/sub across the cluster, as Redis's clusterPropagatePublish: a
// message PUBLISHed on one node reaches the subscribers of every node, an
// SPUBLISHed one those of every node of the channel's shard (the master of
// its slot and that master's replicas). Each peer has one sender goroutine
// and one bus connection, so the messages of one node reach a peer in the
// order they were published. A peer that cannot be reached loses them, as
// Redis's bus drops what a broken link would have carried, and so does a
// peer whose queue holds pubQueue messages already.

// pubQueue is how many messages wait for one peer at most.
const pubQueue = 4096

// pubMsg is one message carried on the bus (a "publish" request).
type pubMsg struct {
	Shard   bool   `json:"shard,omitempty"`
	Channel []byte `json:"ch"`
	Message []byte `json:"msg"`
}

// pubSender feeds one peer's bus connection.
type pubSender struct {
	addr string
	ch   chan *pubMsg
	quit chan struct{}
}

// pubPeers are the senders by node id.
type pubPeers struct {
	mu   sync.Mutex
	byID map[string]*pubSender
}

// SetDeliver sets how a message published on another node is delivered
// to this node's subscribers (shard: an SPUBLISH). Set it before the
// server serves.
func (n *Local) SetDeliver(f func(shard bool, channel, message []byte)) { n.deliver.Store(&f) }

// Publish sends a message published on this node to the other nodes that
// deliver it: every node for PUBLISH, the nodes of slot's shard for
// SPUBLISH (shard). It does not wait for them.
func (n *Local) Publish(shard bool, slot int, channel, message []byte) {
	v := n.View()
	if v == nil || v.Myself == nil || len(v.Nodes) < 2 {
		return
	}
	targets := v.Nodes
	if shard {
		owner := v.Owner(slot)
		if owner == nil {
			return
		}
		targets = append([]*Node{owner}, v.Replicas(owner.ID)...)
	}
	var msg *pubMsg
	for _, t := range targets {
		if t.Myself || t.Raft == "" {
			continue
		}
		if msg == nil {
			msg = &pubMsg{Shard: shard, Channel: append([]byte(nil), channel...), Message: append([]byte(nil), message...)}
		}
		select {
		case n.pubSender(t.ID, t.Raft).ch <- msg:
		default: // the peer is far behind: dropped
		}
	}
}

// pubSender returns the sender of node id at bus address addr, starting
// it (again, when the node's address changed).
func (n *Local) pubSender(id, addr string) *pubSender {
	p := &n.pub
	p.mu.Lock()
	defer p.mu.Unlock()
	s := p.byID[id]
	if s != nil && s.addr == addr {
		return s
	}
	if s != nil {
		close(s.quit)
	}
	if p.byID == nil {
		p.byID = map[string]*pubSender{}
	}
	s = &pubSender{addr: addr, ch: make(chan *pubMsg, pubQueue), quit: make(chan struct{})}
	p.byID[id] = s
	n.wg.Add(1)
	go n.runPubSender(s)
	return s
}

// runPubSender writes s's messages to its peer, one request line each,
// on a connection kept open (dialled again after an error; the message
// that met the error is lost).
func (n *Local) runPubSender(s *pubSender) {
	defer n.wg.Done()
	var nc net.Conn
	defer func() {
		if nc != nil {
			nc.Close()
		}
	}()
	for {
		var m *pubMsg
		select {
		case <-n.stop:
			return
		case <-s.quit:
			return
		case m = <-s.ch:
		}
		if nc == nil {
			c, err := net.DialTimeout("tcp", s.addr, 2*time.Second)
			if err != nil {
				continue
			}
			nc = c
		}
		b, _ := json.Marshal(&rpcReq{T: "publish", Pub: m})
		nc.SetWriteDeadline(time.Now().Add(5 * time.Second))
		if _, err := nc.Write(append(append([]byte{rpcMagic}, b...), '\n')); err != nil {
			nc.Close()
			nc = nil
		}
	}
}

// servePublish delivers the messages of a peer's publish connection, the
// first one already read, until the peer closes it.
func (n *Local) servePublish(first *rpcReq, br *bufio.Reader) {
	req := first
	for {
		if d := n.deliver.Load(); d != nil && req.T == "publish" && req.Pub != nil {
			(*d)(req.Pub.Shard, req.Pub.Channel, req.Pub.Message)
		}
		if _, err := br.ReadByte(); err != nil { // the next request's magic byte
			return
		}
		line, err := br.ReadBytes('\n')
		if err != nil {
			return
		}
		var next rpcReq
		if json.Unmarshal(line, &next) != nil {
			return
		}
		req = &next
	}
}
