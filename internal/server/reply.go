package server

import "github.com/crescent-db/crescent/internal/command"

// replyGate applies CLIENT REPLY OFF and SKIP to a connection's replies.
// Redis drops a reply when the client's flags say so at the moment the
// reply is added, and only a reply: pushes (pub/sub messages, keyspace
// notifications) always go out. Crescent's handlers write straight into
// c.w, so the decision is taken for a stretch of replies at a time: a
// command, or for EXEC its array header and each queued command
// (Client.ReplyBoundary). A stretch that starts muted sends the client's
// own pushes to a side buffer; at its end, if the client is still muted,
// its replies are cut and the pushes put back. The flags change only in
// CLIENT REPLY, which writes nothing (OFF, SKIP) or a reply that goes out
// (ON), so the flags at a stretch's end decide its replies.
type replyGate struct {
	muting bool   // the current stretch started muted
	mark   int    // where its replies start in c.w.Buf
	pushes []byte // the client's own pushes during it
}

// muteStart starts a stretch of replies.
func (c *conn) muteStart() {
	if c.cl.Flags&command.ClientRepliesMuted == 0 {
		return
	}
	g := &c.gate
	g.muting, g.mark = true, len(c.w.Buf)
	c.cl.Out = &g.pushes
}

// muteEnd ends a stretch of replies: cut, if the client is muted, keep
// with cut false (a command that did not run).
func (c *conn) muteEnd(cut bool) {
	g := &c.gate
	if !g.muting {
		return
	}
	g.muting = false
	c.cl.Out = &c.w.Buf
	if cut && c.cl.Flags&command.ClientRepliesMuted != 0 {
		// a flush in the middle of the command (the Lua debugger's
		// output) already sent what came before
		c.w.Truncate(min(g.mark, len(c.w.Buf)))
	}
	c.w.Buf = append(c.w.Buf, g.pushes...)
	if cap(g.pushes) > 64*1024 {
		g.pushes = nil
	} else {
		g.pushes = g.pushes[:0]
	}
}

// replyBoundary is the connection's Client.ReplyBoundary.
func (c *conn) replyBoundary() {
	if c.gate.muting || c.cl.Flags&command.ClientRepliesMuted != 0 {
		c.muteEnd(true)
		c.muteStart()
	}
}

// commandDone moves CLIENT REPLY SKIP on after a command ran, as Redis's
// resetClient does: SKIP drops one command's reply, the one after it.
func (c *conn) commandDone() {
	if f := c.cl.Flags; f&(command.ClientReplySkip|command.ClientReplySkipNext) != 0 {
		f &^= command.ClientReplySkip
		if f&command.ClientReplySkipNext != 0 {
			f = f&^command.ClientReplySkipNext | command.ClientReplySkip
		}
		c.cl.Flags = f
	}
}
