package acl

import (
	"math"
	"strings"

	"github.com/crescent-db/crescent/internal/command"
)

// describeCommands renders a selector's command permissions as Redis 7.0
// does: start from +@all or -@all, apply the categories that fit best
// (fewest exceptions first), then single commands to make up the
// difference. Redis lists those single commands in hash table order, which
// changes with every start; here they come in name order.
func (r *Registry) describeCommands(s *selector) string {
	x := r.index()
	n := len(x.specs)
	additive := !s.future
	var b strings.Builder
	fake := &selector{cmds: newBits(n)}
	if additive {
		b.WriteString("-@all ")
	} else {
		b.WriteString("+@all ")
		fake.cmds.fill(n, true)
	}
	temp := &selector{cmds: append(bits(nil), s.cmds...)}
	var applied [len(Categories)]bool
	for {
		best, mindiff, maxsame := -1, math.MaxInt, 0
		for j := range Categories {
			if applied[j] {
				continue
			}
			on, off := 0, 0
			for _, c := range x.byCat[j] {
				if temp.cmds.get(x.ids[c]) {
					on++
				} else {
					off++
				}
			}
			diff, same := on, off
			if additive {
				diff, same = off, on
			}
			if same > diff && (diff < mindiff || diff == mindiff && same > maxsame) {
				best, mindiff, maxsame = j, diff, same
			}
		}
		if best < 0 {
			break
		}
		r.setCategory(fake, best, additive)
		r.setCategory(temp, best, !additive)
		if additive {
			b.WriteString("+@")
		} else {
			b.WriteString("-@")
		}
		b.WriteString(Categories[best])
		b.WriteByte(' ')
		applied[best] = true
	}
	r.describeSingle(&b, s, fake, x.top)
	out := b.String()
	return out[:len(out)-1]
}

func (r *Registry) describeSingle(b *strings.Builder, s, fake *selector, cmds []*command.Spec) {
	x := r.index()
	for _, c := range cmds {
		id := x.ids[c]
		user := s.cmds.get(id)
		if user != fake.cmds.get(id) {
			if user {
				b.WriteByte('+')
			} else {
				b.WriteByte('-')
			}
			b.WriteString(c.Name)
			b.WriteByte(' ')
			r.changePerm(fake, c, user)
		}
		if len(c.Subs) > 0 {
			subs := x.specs[id+1 : id+1+len(c.Subs)]
			r.describeSingle(b, s, fake, subs)
		}
		if !user {
			for _, a := range s.firstArgs[id] {
				b.WriteString("+" + c.Name + "|" + a + " ")
			}
		}
	}
}

func (r *Registry) describeSelector(s *selector) string {
	var b strings.Builder
	if s.allKeys {
		b.WriteString("~* ")
	} else {
		for _, k := range s.keys {
			b.WriteString(k.String())
			b.WriteByte(' ')
		}
	}
	if s.allChannels {
		b.WriteString("&* ")
	} else {
		b.WriteString("resetchannels ")
		for _, c := range s.channels {
			b.WriteString("&" + c + " ")
		}
	}
	b.WriteString(r.describeCommands(s))
	return b.String()
}

// Describe returns the user's rules as ACL LIST prints them (without the
// leading "user <name> ").
func (r *Registry) Describe(u *User) string {
	st := u.st.Load()
	var b strings.Builder
	for i, n := range userFlagNames {
		if st.flags&(1<<i) != 0 {
			b.WriteString(n + " ")
		}
	}
	for _, p := range st.passwords {
		b.WriteString("#" + p + " ")
	}
	for _, s := range st.selectors {
		if s.root {
			b.WriteString(r.describeSelector(s))
		} else {
			b.WriteString(" (" + r.describeSelector(s) + ")")
		}
	}
	return b.String()
}

// SelectorInfo is one selector as ACL GETUSER shows it.
type SelectorInfo struct {
	Commands string
	Keys     string
	Channels string
}

// UserInfo is what ACL GETUSER shows.
type UserInfo struct {
	Flags     []string
	Passwords []string
	Root      SelectorInfo
	Selectors []SelectorInfo
}

func (r *Registry) selectorInfo(s *selector) SelectorInfo {
	si := SelectorInfo{Commands: r.describeCommands(s)}
	if s.allKeys {
		si.Keys = "~*"
	} else {
		ks := make([]string, len(s.keys))
		for i, k := range s.keys {
			ks[i] = k.String()
		}
		si.Keys = strings.Join(ks, " ")
	}
	if s.allChannels {
		si.Channels = "&*"
	} else {
		cs := make([]string, len(s.channels))
		for i, c := range s.channels {
			cs[i] = "&" + c
		}
		si.Channels = strings.Join(cs, " ")
	}
	return si
}

// Info returns u's details for ACL GETUSER.
func (r *Registry) Info(u *User) UserInfo {
	st := u.st.Load()
	var ui UserInfo
	for i, n := range userFlagNames {
		if st.flags&(1<<i) != 0 {
			ui.Flags = append(ui.Flags, n)
		}
	}
	ui.Passwords = append([]string{}, st.passwords...)
	ui.Root = r.selectorInfo(st.selectors[0])
	for _, s := range st.selectors[1:] {
		ui.Selectors = append(ui.Selectors, r.selectorInfo(s))
	}
	return ui
}
