#!/usr/bin/python3
"""hotlines.py CALLGRIND_OUT N OBJDUMP_TXT: per function, the cache lines its hot
instructions (executed at least N/2 times: once every two requests when the dump
covers N requests) touch, against the lines the same bytes would fill if they were
contiguous: the most a split of hot paths from cold branches could save in
instruction-cache lines (docs/design/concurrency.md, "Shared lines").

CALLGRIND_OUT: a dump of `valgrind --tool=callgrind --dump-instr=yes` over N
requests (callgrind_control -z after a warm-up, -d after the N requests).
OBJDUMP_TXT: `go tool objdump BIN` of the same binary (instruction sizes).
TOP=K in the environment prints the K largest functions (default 45)."""
import sys, re, collections
out, N, dis = sys.argv[1], int(sys.argv[2]), sys.argv[3]
size, func_of = {}, {}
cur = None
for line in open(dis):
    if line.startswith('TEXT '):
        cur = line.split()[1]
        continue
    p = [x for x in line.split('\t') if x.strip()]
    if len(p) >= 3 and p[1].startswith('0x'):
        a = int(p[1], 16)
        size[a] = len(p[2].strip()) // 2
        func_of[a] = cur
cost = collections.Counter()
pos_instr = 0
skip_next = False
with open(out) as f:
    for line in f:
        if not line or not (line[0].isdigit() or line[0] in '+-*0'):
            if line.startswith('calls='):
                skip_next = True
            continue
        parts = line.split()
        tok = parts[0]
        if tok.startswith('0x'):
            pos_instr = int(tok, 16)
        elif tok.startswith('+'):
            pos_instr += int(tok[1:], 16) if tok[1:].startswith('0x') else int(tok[1:])
        elif tok.startswith('-'):
            pos_instr -= int(tok[1:], 16) if tok[1:].startswith('0x') else int(tok[1:])
        elif tok == '*':
            pass
        else:
            continue
        if skip_next:
            skip_next = False
            continue
        if len(parts) >= 3:
            cost[pos_instr] += int(parts[2])
hot = [a for a, c in cost.items() if c >= N // 2 and a in size]
byf = collections.defaultdict(list)
for a in hot:
    byf[func_of[a]].append(a)
rows = []
for fn, addrs in byf.items():
    lines = len({a >> 6 for a in addrs})
    b = sum(size[a] for a in addrs)
    compact = -(-b // 64)
    rows.append((lines, compact, b, fn))
rows.sort(reverse=True)
tl = sum(r[0] for r in rows); tc = sum(r[1] for r in rows); tb = sum(r[2] for r in rows)
print(f"hot instrs {len(hot)}, unknown-size hot addrs {sum(1 for a,c in cost.items() if c >= N//2 and a not in size)}")
print(f"TOTAL lines touched {tl}, hot bytes {tb}, contiguous lines {tc}")
for r in rows[:int(__import__("os").environ.get("TOP","45"))]:
    print(f"{r[0]:5d} {r[1]:5d} {r[2]:6d}  {r[3][:110]}")
