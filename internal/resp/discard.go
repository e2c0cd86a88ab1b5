package resp

// Discard is a ReplyWriter that drops every reply. A command whose loop
// has effects per element (XREADGROUP, a script's reply with errors to
// count) goes on writing to it once its client passed its output limit:
// Redis's addReply adds nothing to a client flagged CLIENT_CLOSE_ASAP,
// while the command itself runs to its end.
type Discard struct {
	// Proto is what ProtoVersion reports: the client's, so that the
	// command takes the same path as before.
	Proto int
}

// Simple implements ReplyWriter.
func (Discard) Simple(string) {}

// OK implements ReplyWriter.
func (Discard) OK() {}

// Error implements ReplyWriter.
func (Discard) Error(string) {}

// Int implements ReplyWriter.
func (Discard) Int(int64) {}

// Bulk implements ReplyWriter.
func (Discard) Bulk([]byte) {}

// BulkString implements ReplyWriter.
func (Discard) BulkString(string) {}

// BulkInt implements ReplyWriter.
func (Discard) BulkInt(int64) {}

// Null implements ReplyWriter.
func (Discard) Null() {}

// NullArray implements ReplyWriter.
func (Discard) NullArray() {}

// Array implements ReplyWriter.
func (Discard) Array(int) {}

// Map implements ReplyWriter.
func (Discard) Map(int) {}

// Set implements ReplyWriter.
func (Discard) Set(int) {}

// Push implements ReplyWriter.
func (Discard) Push(int) {}

// Bool implements ReplyWriter.
func (Discard) Bool(bool) {}

// Double implements ReplyWriter.
func (Discard) Double(float64) {}

// BigNumber implements ReplyWriter.
func (Discard) BigNumber(string) {}

// Verbatim implements ReplyWriter.
func (Discard) Verbatim(string, string) {}

// ProtoVersion implements ReplyWriter.
func (d Discard) ProtoVersion() int { return d.Proto }
