// Drives a server with the two common Node.js clients (ioredis, node-redis)
// and prints what they returned as JSON, for node_test.go to compare
// between Crescent and redis-server. Usage: node node_clients.js PORT
'use strict';
const Redis = require('ioredis');
const { createClient } = require('redis');

const port = Number(process.argv[2]);
const RATE = `local key = KEYS[1]
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
return 1`;
const RESERVE = `local inventory = tonumber(redis.call('GET', KEYS[1]) or 0)
if inventory > 0 then
    redis.call('DECR', KEYS[1])
    redis.call('RPUSH', KEYS[2], ARGV[1])
    return 1
end
return 0`;

async function ioredis(out) {
  const r = new Redis({ port, host: '127.0.0.1', maxRetriesPerRequest: 1 });
  await r.flushall();
  out.push(['set', await r.set('k', 'v')]);
  out.push(['get', await r.get('k')]);
  out.push(['incr', await r.incr('n')]);
  r.defineCommand('ratelimit', { numberOfKeys: 1, lua: RATE });
  for (let i = 0; i < 5; i++) out.push(['ratelimit', await r.ratelimit('rl:u1', 3, 60)]);
  const ttl = await r.ttl('rl:u1');
  out.push(['ttl in window', ttl > 0 && ttl <= 60]);
  out.push(['pipeline', await r.pipeline()
    .hset('h', 'a', '1', 'b', '2').hgetall('h')
    .zadd('z', 1, 'x', 2.5, 'y').zrange('z', 0, -1, 'WITHSCORES')
    .sadd('s', 'm1', 'm2').scard('s').exec()]);
  out.push(['multi', await r.multi().incr('n').incr('n').get('n').exec()]);
  for (const [name, f] of [
    ['error_reply', () => r.eval("return redis.error_reply('MYERR boom')", 0)],
    ['wrongtype', () => r.lpush('k', 'x')],
    ['script error', () => r.eval("return redis.call('nosuch')", 0)],
    ['noscript', () => r.evalsha('0000000000000000000000000000000000000000', 0)],
  ]) {
    try { out.push([name, await f()]); } catch (e) { out.push([name, 'error', e.message]); }
  }
  out.push(['eval conversions', await r.eval(
    "return {1, 'two', {3, 'four'}, redis.status_reply('OK'), 3.9, true, false, nil, 5}", 0)]);
  out.push(['xadd/xrange', await r.xadd('st', '1-1', 'f', 'v').then(() => r.xrange('st', '-', '+'))]);
  const sub = new Redis({ port, host: '127.0.0.1' });
  await sub.subscribe('ch');
  const got = new Promise((res) => sub.on('message', (ch, m) => res([ch, m])));
  out.push(['publish', await r.publish('ch', 'hello')]);
  out.push(['message', await got]);
  sub.disconnect();
  r.disconnect();
}

async function nodeRedis(out) {
  const c = createClient({ socket: { port, host: '127.0.0.1', reconnectStrategy: false } });
  c.on('error', () => {});
  await c.connect();
  out.push(['nr set', await c.set('inv', '2')]);
  for (let i = 0; i < 3; i++) {
    out.push(['nr reserve', await c.eval(RESERVE, { keys: ['inv', 'orders'], arguments: ['o' + i] })]);
  }
  out.push(['nr orders', await c.lRange('orders', 0, -1)]);
  out.push(['nr hGetAll', await c.hGetAll('h')]);
  out.push(['nr multi', await c.multi().set('a', '1').incrBy('a', 41).get('a').exec()]);
  const sha = await c.scriptLoad('return {KEYS[1], ARGV[1]}');
  out.push(['nr evalSha', await c.evalSha(sha, { keys: ['kk'], arguments: ['x'] })]);
  out.push(['nr zRangeWithScores', await c.zRangeWithScores('z', 0, -1)]);
  try { await c.incr('k'); } catch (e) { out.push(['nr incr error', e.message]); }
  await c.quit();
}

(async () => {
  const out = [];
  await ioredis(out);
  await nodeRedis(out);
  process.stdout.write(JSON.stringify(out, null, 1) + '\n');
})().catch((e) => { console.error(e); process.exit(1); });
