package pubsub

// NewRaw returns a message delivered byte for byte whatever the client's
// protocol (MONITOR lines, protocol-specific pushes built by the caller).
func NewRaw(b []byte) *Message { return &Message{b: b, raw: true} }

// NewEncoded returns a message from its RESP2 array encoding; RESP3
// clients get it as a push ('>' instead of '*'), like NewMessage's.
func NewEncoded(resp2 []byte) *Message { return &Message{b: resp2} }

// NewDual returns a message with a fixed encoding per protocol; a nil
// encoding means the message is not sent to clients of that protocol
// (client-side caching invalidations).
func NewDual(resp2, resp3 []byte) *Message {
	return &Message{b: resp2, alt: resp3, raw: true, dual: true}
}
