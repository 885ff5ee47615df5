// Lua scripts of the distributed queue (see ../shared/design/cluster.md §3.2,
// refined): KEYS are always, in this order,
//  1 ready (ZSET: score = order, member = id = 16-hex-digit sequence so that
//    equal scores come out in insertion order), 2 inflight (ZSET: lease
//    deadline, server time in ms), 3 items, 4 tokens, 5 deliveries, 6 meta
//    (HASHes by id), 7 seq (counter), 8 marker and 9 space (one-member ZSETs
//    that blocked getters / putters wait on with BZPOPMIN), 10 dead (LIST),
//    11 scores (HASH: each id's ready score, to requeue it in place).
// PUT, GET, DONE and RELEASE are "once" scripts (see _onceScript): a
// resend after a connection loss neither stores an item twice nor leases
// one to nobody.
import { _onceScript, _script } from "./_connection.ts";

export const _KEY_NAMES = [
  "ready",
  "inflight",
  "items",
  "tokens",
  "deliveries",
  "meta",
  "seq",
  "marker",
  "space",
  "dead",
  "scores",
] as const;

const COMMON = `
local function now()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end
local function forget(id)
  redis.call('HDEL', KEYS[3], id) redis.call('HDEL', KEYS[4], id)
  redis.call('HDEL', KEYS[5], id) redis.call('HDEL', KEYS[6], id)
  redis.call('HDEL', KEYS[11], id)
end
local function bury(id)
  local n = tonumber(redis.call('HGET', KEYS[5], id) or '0')
  redis.call('RPUSH', KEYS[10], cjson.encode({id = id, item = redis.call('HGET', KEYS[3], id), deliveries = n}))
  local m = redis.call('HGET', KEYS[6], id)
  if m then
    local k, msg = string.match(m, '^([^\\n]*)\\n(.*)$')
    if k then redis.call('RPUSH', k, msg) redis.call('PEXPIRE', k, 86400000) end
  end
  forget(id)
end
local function unfinished()
  return redis.call('ZCARD', KEYS[1]) + redis.call('ZCARD', KEYS[2])
end
local function requeue(id, maxd)
  redis.call('ZREM', KEYS[2], id) redis.call('HDEL', KEYS[4], id)
  if maxd > 0 and tonumber(redis.call('HGET', KEYS[5], id) or '0') >= maxd then
    bury(id)
    return 2
  end
  redis.call('ZADD', KEYS[1], redis.call('HGET', KEYS[11], id) or 0, id)
  redis.call('ZADD', KEYS[8], 0, 'm')
  return 1
end
local function reap(t, maxd, channel)
  local ids = redis.call('ZRANGEBYSCORE', KEYS[2], '-inf', t, 'LIMIT', 0, 100)
  local dead = 0
  for _, id in ipairs(ids) do
    if requeue(id, maxd) == 2 then dead = dead + 1 end
  end
  if dead > 0 and unfinished() == 0 then redis.call('PUBLISH', channel, 'joined') end
  return #ids
end
local function take(t, vis, consumer, maxd, channel)
  reap(t, tonumber(maxd), channel)
  local r = redis.call('ZPOPMIN', KEYS[1])
  if #r == 0 then
    local first = redis.call('ZRANGE', KEYS[2], 0, 0, 'WITHSCORES')
    if #first == 0 then return -1 end
    return math.max(1, tonumber(first[2]) - t + 1)
  end
  local id = r[1]
  local n = redis.call('HINCRBY', KEYS[5], id, 1)
  local token = consumer .. ':' .. n .. ':' .. t
  redis.call('HSET', KEYS[4], id, token)
  redis.call('ZADD', KEYS[2], t + tonumber(vis), id)
  if redis.call('ZCARD', KEYS[1]) > 0 then redis.call('ZADD', KEYS[8], 0, 'm') end
  redis.call('ZADD', KEYS[9], 0, 'm')
  return {id, redis.call('HGET', KEYS[3], id), token, n}
end
local function done(id, token, channel, reply)
  if redis.call('HGET', KEYS[4], id) ~= token then
    if redis.call('HEXISTS', KEYS[3], id) == 1 then return -1 end
    return -2
  end
  if reply ~= '' then
    redis.call('RPUSH', KEYS[12], reply)
    redis.call('PEXPIRE', KEYS[12], 3600000)
  end
  redis.call('ZREM', KEYS[2], id)
  forget(id)
  local left = unfinished()
  if left == 0 then redis.call('PUBLISH', channel, 'joined') end
  return left
end
`;

// ARGV: payload, score, maxsize, meta ('' for none), 'lifo' or ''
// -> id, or false when full
export const _PUT = _onceScript(
  "",
  `local maxsize = tonumber(ARGV[3])
if maxsize > 0 and redis.call('ZCARD', KEYS[1]) >= maxsize then return false end
local seq = redis.call('INCR', KEYS[7])
local id = string.format('%016x', seq)
local score = ARGV[2]
if ARGV[5] == 'lifo' then score = tostring(-seq) end
redis.call('HSET', KEYS[3], id, ARGV[1])
redis.call('HSET', KEYS[11], id, score)
if ARGV[4] ~= '' then redis.call('HSET', KEYS[6], id, ARGV[4]) end
redis.call('ZADD', KEYS[1], score, id)
redis.call('ZADD', KEYS[8], 0, 'm')
return id
`,
);

// ARGV: visibility ms, consumer, maxDeliveries, channel
// -> {id, payload, token, deliveries}, or when empty the ms until the first
// lease ends (-1: none leased)
export const _GET = _onceScript(
  COMMON,
  `return take(now(), ARGV[1], ARGV[2], ARGV[3], ARGV[4])`,
);

// ARGV: id, token, channel, reply ('' = none; else RPUSHed to KEYS[12] in
// the same step, so only the holder of the live lease answers), then
// visibility ms, consumer, maxDeliveries, '1' to take the next item in the
// same step (as GET)
// -> {unfinished count | -1 (lease lost) | -2 (gone)[, id, payload, token, deliveries]}
export const _DONE = _onceScript(
  COMMON,
  `local left = done(ARGV[1], ARGV[2], ARGV[3], ARGV[4])
if left < 0 or ARGV[8] ~= '1' then return {left} end
local nxt = take(now(), ARGV[5], ARGV[6], ARGV[7], ARGV[3])
if type(nxt) == 'table' then return {left, nxt[1], nxt[2], nxt[3], nxt[4]} end
return {left}`,
);

// ARGV: id, channel -> 1 removed (it was still waiting), 0 (taken or gone)
export const _REMOVE = _script(
  COMMON + `
if redis.call('ZREM', KEYS[1], ARGV[1]) == 0 then return 0 end
forget(ARGV[1])
if unfinished() == 0 then redis.call('PUBLISH', ARGV[2], 'joined') end
return 1
`,
);

// ARGV: id, token -> 1 given back (not counted as a delivery), 0 not ours
export const _UNGET = _script(
  COMMON + `
if redis.call('HGET', KEYS[4], ARGV[1]) ~= ARGV[2] then return 0 end
redis.call('ZREM', KEYS[2], ARGV[1])
redis.call('HDEL', KEYS[4], ARGV[1])
redis.call('HINCRBY', KEYS[5], ARGV[1], -1)
redis.call('ZADD', KEYS[1], redis.call('HGET', KEYS[11], ARGV[1]) or 0, ARGV[1])
redis.call('ZADD', KEYS[8], 0, 'm')
return 1
`,
);

// ARGV: id, token, visibility ms -> 1, or -1 (lease lost)
export const _TOUCH = _script(
  COMMON + `
if redis.call('HGET', KEYS[4], ARGV[1]) ~= ARGV[2] then return -1 end
redis.call('ZADD', KEYS[2], 'XX', now() + tonumber(ARGV[3]), ARGV[1])
return 1
`,
);

// ARGV: id, token, maxDeliveries, channel -> 1 requeued, 2 dead, -1 lost
export const _RELEASE = _onceScript(
  COMMON,
  `if redis.call('HGET', KEYS[4], ARGV[1]) ~= ARGV[2] then return -1 end
local r = requeue(ARGV[1], tonumber(ARGV[3]))
if r == 2 and unfinished() == 0 then redis.call('PUBLISH', ARGV[4], 'joined') end
return r
`,
);

// ARGV: maxDeliveries, channel -> {unfinished, ready}
export const _REAP = _script(
  COMMON + `
reap(now(), tonumber(ARGV[1]), ARGV[2])
return {unfinished(), redis.call('ZCARD', KEYS[1])}
`,
);
