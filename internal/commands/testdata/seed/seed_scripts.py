"""The user document's redis-py code (seed 000_9dd35c9c60f98024), run
unchanged against the server on 127.0.0.1:$CRESCENT_PORT, plus assertions.

redis.Redis() is pointed at that port by patching its constructor defaults,
so the seed's own lines stay exactly as written. Exits non-zero on failure.
"""
import os
import sys
import threading

import redis

PORT = int(os.environ["CRESCENT_PORT"])
_orig_init = redis.Redis.__init__


def _init(self, *args, **kwargs):
    kwargs.setdefault("host", "127.0.0.1")
    kwargs.setdefault("port", PORT)
    _orig_init(self, *args, **kwargs)


redis.Redis.__init__ = _init

setup = redis.Redis(decode_responses=True)
setup.delete("inventory:item:123", "orders:pending", "ratelimit:user:1000:api")

# ---- seed: "Incorrect (client-side logic creates race conditions)" ----
import redis
r = redis.Redis(decode_responses=True)

# Race condition: another client might modify between GET and SET
current = r.get("inventory:item:123")
if current and int(current) > 0:
    r.decr("inventory:item:123")
    r.rpush("orders:pending", "order:456")
# ---- end of seed block ----

assert current is None, current

# ---- seed: "Correct (use Lua for atomic conditional logic)" ----
import redis
r = redis.Redis(decode_responses=True)

# Atomic inventory decrement with order creation
reserve_item_script = """
local inventory = tonumber(redis.call('GET', KEYS[1]) or 0)
if inventory > 0 then
    redis.call('DECR', KEYS[1])
    redis.call('RPUSH', KEYS[2], ARGV[1])
    return 1
end
return 0
"""

# Register script for reuse (caches on server)
reserve_item = r.register_script(reserve_item_script)

# Execute atomically
success = reserve_item(
    keys=["inventory:item:123", "orders:pending"],
    args=["order:456"]
)

# Rate limiting with Lua
rate_limit_script = """
local key = KEYS[1]
local limit = tonumber(ARGV[1])
local window = tonumber(ARGV[2])

local current = tonumber(redis.call('GET', key) or 0)
if current >= limit then
    return 0
end
redis.call('INCR', key)
if current == 0 then
    redis.call('EXPIRE', key, window)
end
return 1
"""

rate_limiter = r.register_script(rate_limit_script)

# Check rate limit atomically
allowed = rate_limiter(
    keys=["ratelimit:user:1000:api"],
    args=[100, 60]  # 100 requests per 60 seconds
)

# Conditional SET with complex logic
conditional_set_script = """
local current = redis.call('GET', KEYS[1])
if not current or tonumber(ARGV[2]) > tonumber(current) then
    redis.call('SET', KEYS[1], ARGV[1])
    redis.call('EXPIRE', KEYS[1], tonumber(ARGV[3]))
    return 1
end
return 0
"""

# Always pass keys via KEYS array for cluster compatibility
# Use ARGV for values and parameters
# ---- end of seed block ----

# No stock yet: nothing reserved.
assert success == 0, success
assert r.llen("orders:pending") == 0

# The first call of the rate limiter is allowed and starts the window.
assert allowed == 1, allowed
assert r.get("ratelimit:user:1000:api") == "1"
ttl = r.ttl("ratelimit:user:1000:api")
assert 0 < ttl <= 60, ttl
for i in range(99):
    assert rate_limiter(keys=["ratelimit:user:1000:api"], args=[100, 60]) == 1, i
assert rate_limiter(keys=["ratelimit:user:1000:api"], args=[100, 60]) == 0
assert r.get("ratelimit:user:1000:api") == "100"

# register_script objects use EVALSHA and reload after SCRIPT FLUSH.
r.script_flush()
assert rate_limiter(keys=["ratelimit:user:1000:api"], args=[100, 60]) == 0

# 16 clients race for 50 items: exactly 50 orders, never oversold.
STOCK, CLIENTS, TRIES = 50, 16, 10
r.set("inventory:item:123", STOCK)
results = []
lock = threading.Lock()


def buyer(n):
    c = redis.Redis(decode_responses=True)
    reserve = c.register_script(reserve_item_script)
    mine = 0
    for i in range(TRIES):
        mine += reserve(keys=["inventory:item:123", "orders:pending"], args=["order:%d:%d" % (n, i)])
    with lock:
        results.append(mine)


threads = [threading.Thread(target=buyer, args=(n,)) for n in range(CLIENTS)]
for t in threads:
    t.start()
for t in threads:
    t.join()
assert sum(results) == STOCK, results
assert r.get("inventory:item:123") == "0"
assert r.llen("orders:pending") == STOCK
assert len(set(r.lrange("orders:pending", 0, -1))) == STOCK

# The conditional SET script: newer versions win, older ones are ignored.
conditional_set = r.register_script(conditional_set_script)
r.delete("config:version")
assert conditional_set(keys=["config:version"], args=["5", "5", "60"]) == 1
assert conditional_set(keys=["config:version"], args=["3", "3", "60"]) == 0
assert conditional_set(keys=["config:version"], args=["9", "9", "60"]) == 1
assert r.get("config:version") == "9"
assert 0 < r.ttl("config:version") <= 60

# Errors from scripts surface as redis-py exceptions.
try:
    r.eval("return redis.call('nosuch')", 0)
    raise AssertionError("expected an error")
except redis.exceptions.ResponseError as e:
    assert "Unknown Redis command called from script" in str(e), e

setup.delete("inventory:item:123", "orders:pending", "ratelimit:user:1000:api", "config:version")
print("seed OK")
sys.exit(0)
