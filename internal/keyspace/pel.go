package keyspace

import "sort"

const pelChunkMax = 128

// PEL is an ordered set of pending entries keyed by ID: a sorted list of
// small sorted chunks, so inserts at the end, lookups and deletes
// anywhere cost O(log n + chunk size).
type PEL struct {
	chunks [][]*PendingEntry
	n      int
}

// Len is the number of entries.
func (p *PEL) Len() int { return p.n }

// locate returns the chunk that may hold id (the first whose last ID is
// >= id, or the last chunk) and the position of id in it.
func (p *PEL) locate(id StreamID) (ci, i int, found bool) {
	if len(p.chunks) == 0 {
		return 0, 0, false
	}
	ci = sort.Search(len(p.chunks), func(k int) bool {
		c := p.chunks[k]
		return !c[len(c)-1].ID.Less(id)
	})
	if ci == len(p.chunks) {
		ci--
		return ci, len(p.chunks[ci]), false
	}
	c := p.chunks[ci]
	i = sort.Search(len(c), func(k int) bool { return !c[k].ID.Less(id) })
	return ci, i, i < len(c) && c[i].ID == id
}

// Get returns the entry for id, or nil.
func (p *PEL) Get(id StreamID) *PendingEntry {
	ci, i, ok := p.locate(id)
	if !ok {
		return nil
	}
	return p.chunks[ci][i]
}

// Insert adds pe; it returns false (and changes nothing) if its ID is
// already present.
func (p *PEL) Insert(pe *PendingEntry) bool {
	if len(p.chunks) == 0 {
		p.chunks = [][]*PendingEntry{{pe}}
		p.n = 1
		return true
	}
	ci, i, ok := p.locate(pe.ID)
	if ok {
		return false
	}
	c := p.chunks[ci]
	c = append(c, nil)
	copy(c[i+1:], c[i:])
	c[i] = pe
	if len(c) > pelChunkMax {
		half := len(c) / 2
		right := append([]*PendingEntry(nil), c[half:]...)
		c = c[:half:half]
		p.chunks = append(p.chunks, nil)
		copy(p.chunks[ci+2:], p.chunks[ci+1:])
		p.chunks[ci+1] = right
	}
	p.chunks[ci] = c
	p.n++
	return true
}

// Delete removes id and returns its entry, or nil.
func (p *PEL) Delete(id StreamID) *PendingEntry {
	ci, i, ok := p.locate(id)
	if !ok {
		return nil
	}
	c := p.chunks[ci]
	pe := c[i]
	copy(c[i:], c[i+1:])
	c[len(c)-1] = nil
	c = c[:len(c)-1]
	if len(c) == 0 {
		copy(p.chunks[ci:], p.chunks[ci+1:])
		p.chunks[len(p.chunks)-1] = nil
		p.chunks = p.chunks[:len(p.chunks)-1]
	} else {
		p.chunks[ci] = c
	}
	p.n--
	return pe
}

// Seek returns the first entry with ID >= id, or nil.
func (p *PEL) Seek(id StreamID) *PendingEntry {
	ci, i, _ := p.locate(id)
	if ci < len(p.chunks) && i < len(p.chunks[ci]) {
		return p.chunks[ci][i]
	}
	return nil
}

// First returns the entry with the smallest ID, or nil.
func (p *PEL) First() *PendingEntry {
	if len(p.chunks) == 0 {
		return nil
	}
	return p.chunks[0][0]
}

// Last returns the entry with the greatest ID, or nil.
func (p *PEL) Last() *PendingEntry {
	if len(p.chunks) == 0 {
		return nil
	}
	c := p.chunks[len(p.chunks)-1]
	return c[len(c)-1]
}

// Ascend calls fn on entries with ID >= from in order until fn returns
// false. fn must not modify the PEL.
func (p *PEL) Ascend(from StreamID, fn func(*PendingEntry) bool) {
	ci, i, _ := p.locate(from)
	for ; ci < len(p.chunks); ci++ {
		c := p.chunks[ci]
		for ; i < len(c); i++ {
			if !fn(c[i]) {
				return
			}
		}
		i = 0
	}
}
