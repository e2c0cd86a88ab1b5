package rdb

import (
	"fmt"
	"strconv"
)

// Codec encodes and decodes the values of one keyspace type. The string
// codec is built in. The owners of the other types register theirs in the
// server's Codecs (server.New builds it and passes it to commands.Deps and
// persist.New), writing the forms Redis 7.0 writes so files and DUMP
// payloads stay interchangeable with Redis:
//
//	list:   LIST_QUICKLIST_2 (18): length, then per node a container kind
//	        (2 = packed) and the node's listpack as a string. Loading older
//	        files also needs LIST_QUICKLIST (14, ziplist nodes) and LIST (1).
//	set:    SET_INTSET (11, an intset blob) when every member is an integer
//	        and the set has at most set-max-intset-entries members, else
//	        SET (2: length, then each member as a string).
//	hash:   HASH_LISTPACK (16: one listpack, field value field value...) within
//	        hash-max-listpack-entries/-value, else HASH (4: length, then field
//	        and value strings). Loading: HASH_ZIPLIST (13), HASH_ZIPMAP (9).
//	zset:   ZSET_LISTPACK (17: member score member score...) when small, else
//	        ZSET_2 (5: length, then member string and binary double,
//	        Encoder.Double). Loading: ZSET (3, Decoder.StringDouble), ZSET_ZIPLIST (12).
//	stream: STREAM_LISTPACKS_2 (19).
//
// Those codecs live in internal/persist/codec (registered by server.New),
// on the blob encoders of internal/persist/listpack (listpack, ziplist,
// zipmap, intset). A value with no elements makes Load return ErrEmptyKey:
// the file loader skips the key, as Redis does, and RESTORE rejects it.
// Saving a value whose type has no codec fails with a clear error ("no RDB
// codec for values of type X").
type Codec interface {
	// TypeName is the TYPE name of the values the codec saves ("list").
	TypeName() string
	// RDBTypes lists the RDB type bytes the codec loads.
	RDBTypes() []byte
	// Save appends v's encoding and returns its RDB type byte.
	Save(e *Encoder, v any) (byte, error)
	// Load reads a value whose RDB type byte t was already read.
	Load(d *Decoder, t byte) (any, error)
	// Rewrite returns the commands recreating v at key, for an AOF base
	// written without the RDB preamble (expiry is added by the caller).
	Rewrite(key []byte, v any) [][][]byte
}

// Codecs maps keyspace types and RDB type bytes to codecs.
type Codecs struct {
	byName map[string]Codec
	byType [256]Codec
}

// NewCodecs returns the codecs with the string codec registered.
func NewCodecs() *Codecs {
	c := &Codecs{byName: map[string]Codec{}}
	c.Register(stringCodec{})
	return c
}

// Register adds (or replaces) a codec.
func (c *Codecs) Register(cd Codec) {
	c.byName[cd.TypeName()] = cd
	for _, t := range cd.RDBTypes() {
		c.byType[t] = cd
	}
}

// TypeName returns the keyspace TYPE name of v (strings are []byte).
func TypeName(v any) string {
	switch x := v.(type) {
	case []byte:
		return "string"
	case interface{ TypeName() string }:
		return x.TypeName()
	}
	return "unknown"
}

// For returns the codec saving v.
func (c *Codecs) For(v any) (Codec, error) {
	if cd := c.byName[TypeName(v)]; cd != nil {
		return cd, nil
	}
	return nil, fmt.Errorf("no RDB codec for values of type %s", TypeName(v))
}

// SaveValue appends the type byte and encoding of v.
func (c *Codecs) SaveValue(e *Encoder, v any) error {
	cd, err := c.For(v)
	if err != nil {
		return err
	}
	at := len(e.Buf)
	e.Buf = append(e.Buf, 0)
	t, err := cd.Save(e, v)
	if err != nil {
		e.Buf = e.Buf[:at]
		return err
	}
	e.Buf[at] = t
	return nil
}

// LoadValue reads a value of RDB type t.
func (c *Codecs) LoadValue(d *Decoder, t byte) (any, error) {
	cd := c.byType[t]
	if cd == nil {
		return nil, d.errorf("unsupported value type %d", t)
	}
	return cd.Load(d, t)
}

// IsValueType reports whether t is an RDB value type byte (known or not).
func IsValueType(t byte) bool { return t <= TypeStreamListpack2 }

type stringCodec struct{}

func (stringCodec) TypeName() string { return "string" }
func (stringCodec) RDBTypes() []byte { return []byte{TypeString} }
func (stringCodec) Save(e *Encoder, v any) (byte, error) {
	e.String(v.([]byte))
	return TypeString, nil
}

// Load returns the string without spare capacity: Redis encodes a loaded
// string ("int", "embstr" or "raw" by its bytes), and the keyspace reads
// spare capacity as "raw".
func (stringCodec) Load(d *Decoder, _ byte) (any, error) {
	b, err := d.String()
	return b[:len(b):len(b)], err
}
func (stringCodec) Rewrite(key []byte, v any) [][][]byte {
	return [][][]byte{{[]byte("SET"), key, v.([]byte)}}
}

// formatScore formats a float as Redis does in listpacks and commands.
func formatScore(f float64) []byte {
	return strconv.AppendFloat(nil, f, 'g', 17, 64)
}
