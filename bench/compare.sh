#!/usr/bin/env bash
# Side-by-side benchmark: Crescent vs redis-server on this machine.
# Builds Crescent, starts both on free loopback ports with the same settings,
# runs redis-benchmark against each in alternation (A B A B ...), and prints the
# median requests/s of each, the median of the per-round ratios, the medians
# over rounds of p50 and p99 latency, and the median of the per-round p99
# ratios (p99x, Crescent / Redis).
#
#   bench/compare.sh [-r ROUNDS] [-n REQUESTS] [-x FACTOR] [-w WORKLOADS] [-m]
#     -r rounds (default 3), -n requests per run (default 200000), -x how many
#     times more requests a pipelined (-P 16) run makes (default 10, so that it
#     lasts about as long as an unpipelined one: 100,000 pipelined GETs take
#     about 0.15 s, where the 50 connections' start and the first batches
#     weigh on the rate), -w comma-separated workload names (default: all),
#     -m also measure memory for 1,000,000 keys.
#
#   bench/compare.sh -p FILE [-r ROUNDS] [-n REQUESTS] [-w WORKLOADS]
#     profile mode: builds Crescent without profile-guided optimization, runs
#     the workloads against Crescent alone under its CPU profiler and writes
#     the profile to FILE. `bench/compare.sh -p cmd/crescent/default.pgo -r 1`
#     makes the profile `go build ./cmd/crescent` optimizes with
#     (docs/design/concurrency.md, "Profile-guided optimization").
set -euo pipefail
cd "$(dirname "$0")/.."
ROUNDS=3; N=200000; XP=10; ONLY=""; MEM=0; PROFILE=""
while getopts "r:n:x:w:mp:" o; do
  case $o in r) ROUNDS=$OPTARG;; n) N=$OPTARG;; x) XP=$OPTARG;; w) ONLY=$OPTARG;; m) MEM=1;; p) PROFILE=$OPTARG;; *) exit 2;; esac
done
command -v redis-server >/dev/null || { echo "redis-server not found (apt-get install redis-server redis-tools)"; exit 1; }
OUT=$(mktemp -d)
if [ -n "$PROFILE" ]; then
  case $PROFILE in /*) ;; *) PROFILE=$PWD/$PROFILE;; esac
  MEM=0
  go build -pgo=off -o "$OUT/crescent" ./cmd/crescent
  export CRESCENT_CPUPROFILE=$OUT/cpu.pprof
else
  go build -o "$OUT/crescent" ./cmd/crescent
fi
freeport() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'; }
PC=$(freeport); PR=$(freeport)
# CRESCENT_ARGS: extra options for Crescent only (e.g. "--event-loops 1")
"$OUT/crescent" --port "$PC" --save '' --appendonly no --dir "$OUT" ${CRESCENT_ARGS:-} 2>"$OUT/crescent.log" &
CPID=$!
redis-server --port "$PR" --save '' --appendonly no --dir "$OUT" --daemonize no >"$OUT/redis.log" 2>&1 &
RPID=$!
trap 'kill $CPID $RPID 2>/dev/null; wait 2>/dev/null; rm -rf "$OUT"' EXIT
for p in $PC $PR; do for i in $(seq 50); do redis-cli -p "$p" ping >/dev/null 2>&1 && break; sleep 0.1; done; done

RATE='local key = KEYS[1]
local limit = tonumber(ARGV[1])
local window = tonumber(ARGV[2])

local current = tonumber(redis.call('"'"'GET'"'"', key) or 0)
if current >= limit then
    return 0
end
redis.call('"'"'INCR'"'"', key)
if current == 0 then
    redis.call('"'"'EXPIRE'"'"', key, window)
end
return 1'
RESERVE='local inventory = tonumber(redis.call('"'"'GET'"'"', KEYS[1]) or 0)
if inventory > 0 then
    redis.call('"'"'DECR'"'"', KEYS[1])
    redis.call('"'"'RPUSH'"'"', KEYS[2], ARGV[1])
    return 1
end
return 0'
CPU='local x = 0
for i = 1, 1000 do x = x + i % 7 end
redis.call('"'"'SET'"'"', KEYS[1], x)
return x'
# the rate limiter as a FUNCTION library (FCALL rate 1 key limit window)
RATELIB="#!lua name=ratelib
redis.register_function('rate', function(KEYS, ARGV)
$RATE
end)"
declare -A SHA
for p in $PC $PR; do
  redis-cli -p "$p" function load replace "$RATELIB" >/dev/null
  SHA[rate]=$(redis-cli -p "$p" script load "$RATE")
  SHA[reserve]=$(redis-cli -p "$p" script load "$RESERVE")
  SHA[cpu]=$(redis-cli -p "$p" script load "$CPU")
done

# name|redis-benchmark arguments
WORKLOADS=(
  "set|-t set"
  "set-P16|-t set -P 16"
  "get|-t get"
  "get-P16|-t get -P 16"
  "incr|-t incr"
  "lpush|-t lpush"
  "lpop|-t lpop"
  "sadd|-t sadd"
  "hset|-t hset"
  "zadd|-t zadd"
  "mset|-t mset"
  "evalsha-rate|evalsha ${SHA[rate]} 1 rl:__rand_int__ 100 60"
  "evalsha-rate-P16|-P 16 evalsha ${SHA[rate]} 1 rl:__rand_int__ 100 60"
  "evalsha-reserve|evalsha ${SHA[reserve]} 2 inv:__rand_int__ orders:__rand_int__ order"
  "evalsha-reserve-P16|-P 16 evalsha ${SHA[reserve]} 2 inv:__rand_int__ orders:__rand_int__ order"
  "fcall-rate|fcall rate 1 rl:__rand_int__ 100 60"
  "fcall-rate-P16|-P 16 fcall rate 1 rl:__rand_int__ 100 60"
  "eval-body|eval \"return redis.call('incr', KEYS[1])\" 1 ev:__rand_int__"
  "cpu-script|evalsha ${SHA[cpu]} 1 cpu:__rand_int__"
)

run() { # port args... -> "rps p50 p99"
  local port=$1 n=$N; shift
  case " $* " in *" -P "*) n=$((N * XP));; esac
  redis-benchmark -p "$port" -c 50 -n "$n" -r 100000 --csv "$@" 2>/dev/null | tail -1 |
    tr -d '"' | awk -F, '{print $(NF-6), $(NF-3), $(NF-1)}'
}
median() { sort -g | awk '{a[NR]=$0} END {print a[int((NR+1)/2)]}'; }

printf "%-22s %12s %12s %7s %16s %16s %6s\n" workload crescent redis ratio "p50/p99 cres" "p50/p99 redis" p99x
for w in "${WORKLOADS[@]}"; do
  name=${w%%|*}; args=${w#*|}
  if [ -n "$ONLY" ] && [[ ",$ONLY," != *",$name,"* ]]; then continue; fi
  : >"$OUT/c"; : >"$OUT/r"
  for r in $(seq "$ROUNDS"); do
    eval "run $PC $args" >>"$OUT/c"
    if [ -n "$PROFILE" ]; then continue; fi
    eval "run $PR $args" >>"$OUT/r"
  done
  if [ -n "$PROFILE" ]; then
    printf "%-22s %12s\n" "$name" "$(awk '{print $1}' "$OUT/c" | median)"
    continue
  fi
  c=$(awk '{print $1}' "$OUT/c" | median); rr=$(awk '{print $1}' "$OUT/r" | median)
  # latencies: the median over rounds of each percentile (one round's p99 swings by 2x)
  cl=$(awk '{print $2}' "$OUT/c" | median)/$(awk '{print $3}' "$OUT/c" | median)
  rl=$(awk '{print $2}' "$OUT/r" | median)/$(awk '{print $3}' "$OUT/r" | median)
  # the median of per-round ratios (rounds alternate, so each pair shares conditions)
  ratio=$(paste -d' ' "$OUT/c" "$OUT/r" | awk '{ if ($4>0) printf "%.4f\n", $1/$4 }' | median)
  ratio=$(awk -v x="$ratio" 'BEGIN { if (x=="") print "n/a"; else printf "%.2f", x }')
  # p99x: the median of per-round p99 ratios, Crescent / Redis (lower is better)
  p99x=$(paste -d' ' "$OUT/c" "$OUT/r" | awk '{ if ($6>0) printf "%.4f\n", $3/$6 }' | median)
  p99x=$(awk -v x="$p99x" 'BEGIN { if (x=="") print "n/a"; else printf "%.2f", x }')
  printf "%-22s %12s %12s %7s %16s %16s %6s\n" "$name" "$c" "$rr" "$ratio" "$cl" "$rl" "$p99x"
done

if [ "$MEM" = 1 ]; then
  python3 - "$OUT/load.resp" <<'PY'
import sys
with open(sys.argv[1], "wb") as f:
    for i in range(1000000):
        k = b"key:%d" % i; v = b"value:%d" % i
        f.write(b"*3\r\n$3\r\nSET\r\n$%d\r\n%s\r\n$%d\r\n%s\r\n" % (len(k), k, len(v), v))
PY
  for p in $PC $PR; do redis-cli -p "$p" flushall >/dev/null; redis-cli -p "$p" --pipe <"$OUT/load.resp" >/dev/null; done
  sleep 1
  crss=$(awk '/VmRSS/ {print $2*1024}' /proc/$CPID/status); rrss=$(awk '/VmRSS/ {print $2*1024}' /proc/$RPID/status)
  cum=$(redis-cli -p "$PC" info memory | awk -F: '/^used_memory:/ {print $2}' | tr -d '\r')
  rum=$(redis-cli -p "$PR" info memory | awk -F: '/^used_memory:/ {print $2}' | tr -d '\r')
  printf "%-22s %12s %12s %7s\n" "rss-1M-keys" "$crss" "$rrss" "$(awk -v a="$crss" -v b="$rrss" 'BEGIN{printf "%.2f", a/b}')"
  printf "%-22s %12s %12s %7s\n" "used_memory-1M-keys" "$cum" "$rum" "$(awk -v a="$cum" -v b="$rum" 'BEGIN{printf "%.2f", a/b}')"
fi

if [ -n "$PROFILE" ]; then
  # a clean shutdown stops the profiler, which writes the file
  redis-cli -p "$PC" shutdown nosave >/dev/null 2>&1 || true
  wait "$CPID" 2>/dev/null || true
  cp "$OUT/cpu.pprof" "$PROFILE"
  echo "profile written to $PROFILE"
fi
