package commands

// INFO fields of the operating features: stats, latencystats and the
// memory breakdown.

import (
	"fmt"
	"runtime"
	"strconv"
	"strings"
	"sync/atomic"

	"github.com/crescent-db/crescent/internal/command"
	"github.com/crescent-db/crescent/internal/exec"
	"github.com/crescent-db/crescent/internal/oserr"
	"github.com/crescent-db/crescent/internal/pubsub"
)

func (h *Handlers) statsInfo() []string {
	hits, misses := h.Store.KeyspaceStats()
	hits += h.Net.Hits.Load()
	misses += h.Net.Misses.Load()
	_, tkeys, titems, tprefixes := h.TrackingStats()
	o := h.ops
	kbps := func(i int) string { return fmt.Sprintf("%.2f", o.ops.rate(i)/1024) }
	errs := h.Exec.ErrorStats()
	var syncFull, syncOK, syncErr, forks int64
	if h.Repl != nil {
		syncFull, syncOK, syncErr = h.Repl.SyncStats()
	}
	if h.Persist != nil {
		forks = h.Persist.Forks()
	}
	return []string{
		fmt.Sprintf("total_connections_received:%d", h.Net.TotalConns.Load()),
		fmt.Sprintf("total_commands_processed:%d", h.Exec.TotalCmds.Load()),
		fmt.Sprintf("instantaneous_ops_per_sec:%d", int64(o.ops.rate(0))),
		fmt.Sprintf("total_net_input_bytes:%d", h.Net.NetInput.Load()),
		fmt.Sprintf("total_net_output_bytes:%d", h.Net.NetOutput.Load()),
		"total_net_repl_input_bytes:0",
		"total_net_repl_output_bytes:0",
		"instantaneous_input_kbps:" + kbps(1),
		"instantaneous_output_kbps:" + kbps(2),
		"instantaneous_input_repl_kbps:0.00",
		"instantaneous_output_repl_kbps:0.00",
		fmt.Sprintf("rejected_connections:%d", h.Net.RejectedConns.Load()),
		fmt.Sprintf("sync_full:%d", syncFull),
		fmt.Sprintf("sync_partial_ok:%d", syncOK),
		fmt.Sprintf("sync_partial_err:%d", syncErr),
		fmt.Sprintf("expired_keys:%d", h.Net.ExpiredKeys.Load()),
		"expired_stale_perc:0.00",
		"expired_time_cap_reached_count:0",
		"expire_cycle_cpu_milliseconds:0",
		fmt.Sprintf("evicted_keys:%d", h.Exec.EvictedKeys.Load()),
		fmt.Sprintf("evicted_clients:%d", h.Net.EvictedClients.Load()),
		"total_eviction_exceeded_time:0",
		"current_eviction_exceeded_time:0",
		fmt.Sprintf("keyspace_hits:%d", hits),
		fmt.Sprintf("keyspace_misses:%d", misses),
		fmt.Sprintf("pubsub_channels:%d", h.pubsubCount(pubsub.Channel)),
		fmt.Sprintf("pubsub_patterns:%d", h.pubsubCount(pubsub.Pattern)),
		fmt.Sprintf("pubsubshard_channels:%d", h.pubsubCount(pubsub.Shard)),
		"latest_fork_usec:0",
		fmt.Sprintf("total_forks:%d", forks),
		fmt.Sprintf("migrate_cached_sockets:%d", h.migrateConns.count()),
		"slave_expires_tracked_keys:0",
		"active_defrag_hits:0",
		"active_defrag_misses:0",
		"active_defrag_key_hits:0",
		"active_defrag_key_misses:0",
		"total_active_defrag_time:0",
		"current_active_defrag_time:0",
		fmt.Sprintf("tracking_total_keys:%d", tkeys),
		fmt.Sprintf("tracking_total_items:%d", titems),
		fmt.Sprintf("tracking_total_prefixes:%d", tprefixes),
		fmt.Sprintf("unexpected_error_replies:%d", h.Exec.UnexpectedErrorReplies.Load()),
		"total_error_replies:" + strconv.FormatInt(sumErrors(errs), 10),
		"dump_payload_sanitizations:0",
		fmt.Sprintf("total_reads_processed:%d", h.Exec.TotalCmds.Load()),
		fmt.Sprintf("total_writes_processed:%d", h.Exec.TotalCmds.Load()),
		"io_threaded_reads_processed:0",
		"io_threaded_writes_processed:0",
		"reply_buffer_shrinks:0",
		"reply_buffer_expands:0",
		fmt.Sprintf("crescent_handler_panics:%d", h.Exec.HandlerPanics.Load()),
		fmt.Sprintf("crescent_server_panics:%d", h.Exec.ServerPanics.Load()),
	}
}

// latencyStatsInfo is INFO latencystats: the configured percentiles of
// each command's latency histogram.
func (h *Handlers) latencyStatsInfo() []string {
	if !h.Config.Bool("latency-tracking") {
		return nil
	}
	var pcts []float64
	for _, f := range strings.Fields(h.Config.Get("latency-tracking-info-percentiles")) {
		if v, err := strconv.ParseFloat(f, 64); err == nil {
			pcts = append(pcts, v)
		}
	}
	var out []string
	h.Exec.Stats(func(s *command.Spec, st *exec.Stat) {
		if st.Calls.Load() == 0 {
			return
		}
		var b strings.Builder
		b.WriteString("latency_percentiles_usec_" + s.Name + ":")
		for i, p := range pcts {
			if i > 0 {
				b.WriteByte(',')
			}
			fmt.Fprintf(&b, "p%s=%.3f", strconv.FormatFloat(p, 'f', -1, 64), st.Hist.Percentile(p))
		}
		out = append(out, b.String())
	})
	return out
}

func (h *Handlers) memoryInfoExtra(ms *runtime.MemStats) []string {
	used := h.Exec.UsedMemory()
	startup := h.Exec.BaseMemory
	dataset := used - startup
	return []string{
		fmt.Sprintf("used_memory_peak_perc:%.2f%%", pct(used, int64(ms.HeapSys))),
		fmt.Sprintf("used_memory_overhead:%d", startup),
		fmt.Sprintf("used_memory_startup:%d", startup),
		fmt.Sprintf("used_memory_dataset:%d", dataset),
		fmt.Sprintf("used_memory_dataset_perc:%.2f%%", pct(dataset, used)),
		fmt.Sprintf("allocator_allocated:%d", ms.HeapAlloc),
		fmt.Sprintf("allocator_active:%d", ms.HeapInuse),
		fmt.Sprintf("allocator_resident:%d", ms.HeapSys-ms.HeapReleased),
	}
}

func (h *Handlers) memoryInfoTail(ms *runtime.MemStats, rss int64) []string {
	resident := int64(ms.HeapSys - ms.HeapReleased)
	return []string{
		fmt.Sprintf("allocator_frag_ratio:%.2f", ratio(int64(ms.HeapInuse), int64(ms.HeapAlloc))),
		fmt.Sprintf("allocator_frag_bytes:%d", int64(ms.HeapInuse)-int64(ms.HeapAlloc)),
		fmt.Sprintf("allocator_rss_ratio:%.2f", ratio(resident, int64(ms.HeapInuse))),
		fmt.Sprintf("allocator_rss_bytes:%d", resident-int64(ms.HeapInuse)),
		fmt.Sprintf("rss_overhead_ratio:%.2f", ratio(rss, resident)),
		fmt.Sprintf("rss_overhead_bytes:%d", rss-resident),
		fmt.Sprintf("mem_fragmentation_ratio:%.2f", float64(rss)/float64(max(ms.HeapAlloc, 1))),
		fmt.Sprintf("mem_fragmentation_bytes:%d", rss-int64(ms.HeapAlloc)),
		"mem_not_counted_for_evict:0",
		"mem_replication_backlog:0",
		"mem_total_replication_buffers:0",
		"mem_clients_slaves:0",
		fmt.Sprintf("mem_clients_normal:%d", h.Server.ClientsMemory()),
		"mem_cluster_links:0",
		"mem_aof_buffer:0",
		"mem_allocator:go",
		"active_defrag_running:0",
		fmt.Sprintf("lazyfree_pending_objects:%d", h.ops.lazyPending.Load()),
		fmt.Sprintf("lazyfreed_objects:%d", h.ops.lazyFreed.Load()),
	}
}

// cpuMainThreadLines: Crescent has no main thread; the process's figures
// stand for it, as the whole server does its work.
func cpuMainThreadLines() []string {
	var out []string
	for _, l := range cpuLines()[:2] {
		k, v, _ := strings.Cut(l, ":")
		out = append(out, k+"_main_thread:"+v)
	}
	return out
}

// resetOpsStats is CONFIG RESETSTAT's part: keyspace hits and misses,
// the slowlog stays (as Redis).
func (h *Handlers) resetOpsStats() {
	h.Store.ResetKeyspaceStats()
	h.Net.Hits.Store(0)
	h.Net.Misses.Store(0)
	h.ops.lazyFreed.Store(0)
	// the rest of Redis's resetServerStats (the command that resets them
	// counts itself afterwards, as in Redis)
	h.Exec.TotalCmds.Reset()
	h.Exec.EvictedKeys.Store(0)
	h.Exec.UnexpectedErrorReplies.Store(0)
	for _, n := range []*atomic.Int64{&h.Net.TotalConns, &h.Net.RejectedConns, &h.Net.ExpiredKeys, &h.Net.EvictedClients} {
		n.Store(0)
	}
	h.Net.NetInput.Reset()
	h.Net.NetOutput.Reset()
	h.ops.ops.reset()
}

// configRewrite is CONFIG REWRITE.
func (h *Handlers) configRewrite(c *command.Ctx) {
	if h.ConfigFile == "" {
		c.Error("ERR The server is running without a config file")
		return
	}
	if err := h.rewriteConfig(false); err != nil {
		h.Log.Warn("CONFIG REWRITE failed", "err", err)
		c.Error("ERR Rewriting config file: " + err.Error())
		return
	}
	h.Log.Info("CONFIG REWRITE executed with success.")
	c.W.OK()
}

// debugConfigRewriteForceAll is DEBUG CONFIG-REWRITE-FORCE-ALL: CONFIG
// REWRITE writing every directive, defaults included.
func (h *Handlers) debugConfigRewriteForceAll(c *command.Ctx) {
	if h.ConfigFile == "" {
		// Redis opens a NULL path: EFAULT
		c.Error("ERR CONFIG-REWRITE-FORCE-ALL failed: Bad address")
		return
	}
	if err := h.rewriteConfig(true); err != nil {
		c.Error("ERR CONFIG-REWRITE-FORCE-ALL failed: " + oserr.Text(err))
		return
	}
	c.W.OK()
}

// rewriteConfig rewrites the config file with the ACL's users (unless an
// aclfile keeps them); forceAll writes every directive.
func (h *Handlers) rewriteConfig(forceAll bool) error {
	extra := map[string][]string{}
	if h.Config.Get("aclfile") == "" && h.ACL != nil {
		var users []string
		for _, u := range h.ACL.Users() {
			users = append(users, "user "+u.Name()+" "+h.ACL.Describe(u))
		}
		extra["user"] = users
	}
	return h.Config.Rewrite(h.ConfigFile, extra, forceAll)
}
