import type { Redis } from 'ioredis';

/**
 * The Lua behind RedisEphemeral. Each read-modify-write is one script, so Redis runs it as one
 * atomic step across every process sharing the server.
 *
 * Encoding: one hash per entry, `v` the value and `x` its expiry (ms since the epoch, written by
 * the adapter). Liveness is `x > now` with `now` passed in by the caller: the adapter's clock
 * decides, never the Redis server's, so an injected clock (tests, or a process whose clock differs
 * from the server's) sees exactly the expiry it wrote. PEXPIRE is only garbage collection, set to
 * the TTL plus a slack so Redis never drops an entry the adapter still considers live.
 *
 * Numbers cross into `redis.call` only as strings prepared in TypeScript: Lua 5.1 prints numbers
 * with `%.14g`, which would turn a large expiry or GC TTL into `1e+15`.
 */

/** Error codes the increment script raises: the counter holds a non-integer, or would leave 2^53. */
export const NOT_INTEGER = 'GWNOTINTEGER';
export const UNSAFE_SUM = 'GWUNSAFESUM';

/** Replaces whatever the key held (an expired entry's leftovers included) with a fresh entry. */
const PUT = `
local function put(key, value, expiresAt, gcTtlMs)
  redis.call('DEL', key)
  redis.call('HSET', key, 'v', value, 'x', expiresAt)
  redis.call('PEXPIRE', key, gcTtlMs)
end
`;

/** ARGV: now, value, expiresAt, gcTtlMs. */
const SET = `${PUT}
put(KEYS[1], ARGV[2], ARGV[3], ARGV[4])
return 1
`;

/** ARGV: now, value, expiresAt, gcTtlMs. Returns 1 when written, 0 when a live entry was kept. */
const SET_IF_ABSENT = `${PUT}
local x = tonumber(redis.call('HGET', KEYS[1], 'x'))
if x and x > tonumber(ARGV[1]) then return 0 end
put(KEYS[1], ARGV[2], ARGV[3], ARGV[4])
return 1
`;

/**
 * ARGV: now, by, expiresAt, gcTtlMs, ttlMs (the last three used only when the counter is created).
 * Returns {value, remaining ttl} as decimal strings: ioredis 6 decodes integer replies near 2^53
 * inexactly. The integer check is the one parseCounter() makes, and the sum must stay a safe integer:
 * below 2^53 the double arithmetic here is exact, and '%.0f' prints it exactly.
 */
const INCREMENT = `${PUT}
local now = tonumber(ARGV[1])
local entry = redis.call('HMGET', KEYS[1], 'v', 'x')
local x = tonumber(entry[2])
if not (entry[1] and x and x > now) then
  put(KEYS[1], ARGV[2], ARGV[3], ARGV[4])
  return {ARGV[2], ARGV[5]}
end
local v = entry[1]
local max = 9007199254740991
if not (string.match(v, '^%-?[1-9]%d*$') or string.match(v, '^%-?0$')) or math.abs(tonumber(v)) > max then
  return redis.error_reply('${NOT_INTEGER} the value is not an integer')
end
local sum = tonumber(v) + tonumber(ARGV[2])
if math.abs(sum) > max then
  return redis.error_reply('${UNSAFE_SUM} the sum is not a safe integer')
end
local value = string.format('%.0f', sum)
redis.call('HSET', KEYS[1], 'v', value)
return {value, string.format('%.0f', x - now)}
`;

/** ARGV: now. Deletes the entry (an expired one too); returns its value if it was live. */
const CONSUME = `
local entry = redis.call('HMGET', KEYS[1], 'v', 'x')
if not entry[1] then return false end
redis.call('DEL', KEYS[1])
local x = tonumber(entry[2])
if x and x > tonumber(ARGV[1]) then return entry[1] end
return false
`;

/** ARGV: now. Deletes the entry (an expired one too); returns 1 if it was live. */
const DELETE = `
local x = tonumber(redis.call('HGET', KEYS[1], 'x'))
if redis.call('DEL', KEYS[1]) == 0 then return 0 end
if x and x > tonumber(ARGV[1]) then return 1 end
return 0
`;

export const SCRIPTS = {
  gwSet: SET,
  gwSetIfAbsent: SET_IF_ABSENT,
  gwIncrement: INCREMENT,
  gwConsume: CONSUME,
  gwDelete: DELETE,
} as const;

type Arg = string | number;

/** The client once `defineScripts` ran: ioredis adds one method per script (EVALSHA, EVAL on NOSCRIPT). */
export type ScriptedRedis = Redis & {
  gwSet(key: string, now: Arg, value: string, expiresAt: Arg, gcTtlMs: Arg): Promise<unknown>;
  gwSetIfAbsent(key: string, now: Arg, value: string, expiresAt: Arg, gcTtlMs: Arg): Promise<unknown>;
  gwIncrement(key: string, now: Arg, by: Arg, expiresAt: Arg, gcTtlMs: Arg, ttlMs: Arg): Promise<unknown>;
  gwConsume(key: string, now: Arg): Promise<unknown>;
  gwDelete(key: string, now: Arg): Promise<unknown>;
};

export function defineScripts(client: Redis): ScriptedRedis {
  for (const [name, lua] of Object.entries(SCRIPTS)) client.defineCommand(name, { lua, numberOfKeys: 1 });
  return client as ScriptedRedis;
}
