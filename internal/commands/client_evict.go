package commands

// Client eviction (maxmemory-clients, Redis 7.0's evictClients): when the
// memory the normal and pub/sub clients hold (query buffer and replies
// not written yet) passes the limit, the clients holding the most are
// closed, largest first, until the rest fits. CLIENT NO-EVICT clients,
// replicas and a replica's master link are never evicted.

import (
	"sort"
	"strconv"
	"strings"

	"github.com/crescent-db/crescent/internal/command"
)

// clientBaseMemory is what CLIENT LIST counts for any client besides its
// buffers (tot-mem): the read buffer.
const clientBaseMemory = 16384

// clientMemory is a client's memory as CLIENT LIST's tot-mem and the
// eviction count it.
func (h *Handlers) clientMemory(cl *command.Client) int64 {
	qbuf, obuf := h.Server.ClientBuffers(cl.ID)
	return clientBaseMemory + int64(qbuf) + int64(obuf)
}

// maxmemoryClients is maxmemory-clients in bytes (a percentage is of
// maxmemory); 0: no client eviction.
func (h *Handlers) maxmemoryClients() int64 {
	v := h.Config.Get("maxmemory-clients")
	if pct, ok := strings.CutSuffix(v, "%"); ok {
		n, _ := strconv.ParseInt(pct, 10, 64)
		return h.Config.Int("maxmemory") * n / 100
	}
	return h.Config.Int("maxmemory-clients")
}

// evictClients closes the clients holding the most memory while the
// evictable clients together hold more than maxmemory-clients (the cron
// calls it; Redis checks after each command and before it sleeps).
func (h *Handlers) evictClients() {
	limit := h.maxmemoryClients()
	if limit <= 0 {
		return
	}
	type held struct {
		cl  *command.Client
		mem int64
	}
	var cands []held
	total := int64(0)
	for _, cl := range h.allClients() {
		v := cl.View()
		if v.Flags&(command.ClientNoEvict|command.ClientReplica|command.ClientMaster) != 0 {
			continue
		}
		m := h.clientMemory(cl)
		total += m
		cands = append(cands, held{cl, m})
	}
	if total <= limit {
		return
	}
	sort.Slice(cands, func(i, j int) bool { return cands[i].mem > cands[j].mem })
	for _, c := range cands {
		if total <= limit {
			break
		}
		h.Log.Debug("Evicting client: id=" + strconv.FormatInt(c.cl.ID, 10) + " addr=" + c.cl.Addr +
			" tot-mem=" + strconv.FormatInt(c.mem, 10))
		c.cl.Close()
		h.ops.evictedClients.Add(1)
		total -= c.mem
	}
}
