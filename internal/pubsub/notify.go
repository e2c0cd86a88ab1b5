package pubsub

import (
	"errors"
	"strconv"
)

// Keyspace notification classes (notify-keyspace-events flags).
const (
	NotifyKeyspace uint32 = 1 << iota // K
	NotifyKeyevent                    // E
	NotifyGeneric                     // g
	NotifyString                      // $
	NotifyList                        // l
	NotifySet                         // s
	NotifyHash                        // h
	NotifyZSet                        // z
	NotifyExpired                     // x
	NotifyEvicted                     // e
	NotifyStream                      // t
	NotifyKeyMiss                     // m
	NotifyModule                      // d
	NotifyNew                         // n

	// NotifyAll is the A alias: every class except m and n.
	NotifyAll = NotifyGeneric | NotifyString | NotifyList | NotifySet | NotifyHash |
		NotifyZSet | NotifyExpired | NotifyEvicted | NotifyStream | NotifyModule
)

// ErrNotifyFlags is the CONFIG SET error for an invalid class character.
var ErrNotifyFlags = errors.New("Invalid event class character. Use 'Ag$lshzxeKEtmdn'.")

// ClassFlag maps a class character ('g', '$', 'x'...) to its flag (0 when
// unknown).
func ClassFlag(c byte) uint32 {
	switch c {
	case 'A':
		return NotifyAll
	case 'g':
		return NotifyGeneric
	case '$':
		return NotifyString
	case 'l':
		return NotifyList
	case 's':
		return NotifySet
	case 'h':
		return NotifyHash
	case 'z':
		return NotifyZSet
	case 'x':
		return NotifyExpired
	case 'e':
		return NotifyEvicted
	case 'K':
		return NotifyKeyspace
	case 'E':
		return NotifyKeyevent
	case 't':
		return NotifyStream
	case 'm':
		return NotifyKeyMiss
	case 'd':
		return NotifyModule
	case 'n':
		return NotifyNew
	}
	return 0
}

// ParseNotifyFlags parses a notify-keyspace-events value.
func ParseNotifyFlags(s string) (uint32, error) {
	var f uint32
	for i := 0; i < len(s); i++ {
		c := ClassFlag(s[i])
		if c == 0 {
			return 0, ErrNotifyFlags
		}
		f |= c
	}
	return f, nil
}

// FormatNotifyFlags renders flags as CONFIG GET shows them (Redis 7.0's
// keyspaceEventsFlagsToString, which drops n when A is shown).
func FormatNotifyFlags(f uint32) string {
	var b []byte
	if f&NotifyAll == NotifyAll {
		b = append(b, 'A')
	} else {
		for _, c := range []byte("g$lshzxetdn") {
			if f&ClassFlag(c) != 0 {
				b = append(b, c)
			}
		}
	}
	for _, c := range []byte("KEm") {
		if f&ClassFlag(c) != 0 {
			b = append(b, c)
		}
	}
	return string(b)
}

// NormalizeNotifyFlags validates a notify-keyspace-events value and returns
// its canonical form.
func NormalizeNotifyFlags(s string) (string, error) {
	f, err := ParseNotifyFlags(s)
	if err != nil {
		return "", err
	}
	return FormatNotifyFlags(f), nil
}

// SetNotifyFlags sets the keyspace notification classes.
func (h *Hub) SetNotifyFlags(f uint32) { h.notify.Store(f) }

// Notify publishes a keyspace notification of class (a class character such
// as 'g' or '$') for key in db: on __keyspace@<db>__:<key> with the event
// as payload and on __keyevent@<db>__:<event> with the key as payload, as
// enabled by notify-keyspace-events. It is cheap when notifications are off.
func (h *Hub) Notify(class byte, event string, db int, key []byte) {
	if h.notify.Load() != 0 { // small enough to inline: no call when notifications are off
		h.notifyOn(class, event, db, key, Self{})
	}
}

// Notifying reports whether some notification class is enabled (Notify
// and NotifyFrom do nothing otherwise).
func (h *Hub) Notifying() bool { return h.notify.Load() != 0 }

// NotifyFrom is Notify on behalf of the client self, which gets its own
// notifications inline (see Self).
func (h *Hub) NotifyFrom(class byte, event string, db int, key []byte, self Self) {
	if h.notify.Load() != 0 {
		h.notifyOn(class, event, db, key, self)
	}
}

// notifyOn is Notify when some notification class is enabled.
func (h *Hub) notifyOn(class byte, event string, db int, key []byte, self Self) {
	f := h.notify.Load()
	if f == 0 || f&ClassFlag(class) == 0 || class == 'A' {
		return
	}
	var buf [64]byte
	if f&NotifyKeyspace != 0 {
		ch := append(buf[:0], "__keyspace@"...)
		ch = strconv.AppendInt(ch, int64(db), 10)
		ch = append(ch, "__:"...)
		ch = append(ch, key...)
		h.PublishFrom(ch, []byte(event), self)
	}
	if f&NotifyKeyevent != 0 {
		ch := append(buf[:0], "__keyevent@"...)
		ch = strconv.AppendInt(ch, int64(db), 10)
		ch = append(ch, "__:"...)
		ch = append(ch, event...)
		h.PublishFrom(ch, key, self)
	}
}
