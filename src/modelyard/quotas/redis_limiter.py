"""The limiter on Redis, so that every gateway process shares one set of limits.

Each bucket is a sorted set (entry id scored by its expiry time) and a hash (entry id ->
amount). One Lua script prunes, checks every bucket and adds the entry to all of them;
Redis runs a script atomically, so 50 racing requests cannot overshoot a limit of 10.
Times are the gateway's wall clock: processes sharing a Redis should run NTP. One script
touches several buckets, so this needs a single Redis (or one Cluster slot), not a Cluster.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Sequence
from typing import Any

from modelyard.config import Settings
from modelyard.quotas.limiter import Check, Refusal, register_limiter

__all__ = ["RedisLimiter"]

log = logging.getLogger(__name__)

# KEYS: zset and hash of each bucket, in pairs.  ARGV: now, entry id, then per bucket
# amount, limit, floor, expires at.  Returns {0} when admitted, else {bucket number,
# retry-after seconds as a string, or "" when expiry alone never makes room}.
_ACQUIRE = """
local now = tonumber(ARGV[1])
local entry = ARGV[2]
local n = #KEYS / 2
for i = 1, n do
  local z, h = KEYS[2 * i - 1], KEYS[2 * i]
  local expired = redis.call('ZRANGEBYSCORE', z, '-inf', now)
  for j = 1, #expired, 500 do
    redis.call('HDEL', h, unpack(expired, j, math.min(j + 499, #expired)))
  end
  redis.call('ZREMRANGEBYSCORE', z, '-inf', now)
end
for i = 1, n do
  local z, h = KEYS[2 * i - 1], KEYS[2 * i]
  local at = 3 + (i - 1) * 4
  local amount, limit, floor = tonumber(ARGV[at]), tonumber(ARGV[at + 1]), tonumber(ARGV[at + 2])
  local used = floor
  for _, value in ipairs(redis.call('HVALS', h)) do used = used + tonumber(value) end
  local excess = used + amount - limit
  if excess > 1e-9 then
    local freed = 0
    local live = redis.call('ZRANGE', z, 0, -1, 'WITHSCORES')
    for j = 1, #live, 2 do
      freed = freed + tonumber(redis.call('HGET', h, live[j]) or '0')
      if freed >= excess then
        return {i, tostring(math.max(tonumber(live[j + 1]) - now, 0))}
      end
    end
    return {i, ''}
  end
end
for i = 1, n do
  local z, h = KEYS[2 * i - 1], KEYS[2 * i]
  local at = 3 + (i - 1) * 4
  local expires = tonumber(ARGV[at + 3])
  redis.call('ZADD', z, expires, entry)
  redis.call('HSET', h, entry, ARGV[at])
  local ttl = math.ceil(expires - now) + 1
  for _, key in ipairs({z, h}) do
    if redis.call('TTL', key) < ttl then redis.call('EXPIRE', key, ttl) end
  end
end
return {0}
"""

# KEYS: zset, hash.  ARGV: entry id, amount, new expiry ("" keeps it), now.
_ADJUST = """
if not redis.call('ZSCORE', KEYS[1], ARGV[1]) then return 0 end
if tonumber(ARGV[2]) <= 0 then
  redis.call('ZREM', KEYS[1], ARGV[1])
  redis.call('HDEL', KEYS[2], ARGV[1])
  return 1
end
redis.call('HSET', KEYS[2], ARGV[1], ARGV[2])
if ARGV[3] ~= '' then
  local expires = tonumber(ARGV[3])
  redis.call('ZADD', KEYS[1], expires, ARGV[1])
  local ttl = math.ceil(expires - tonumber(ARGV[4])) + 1
  for _, key in ipairs(KEYS) do
    if redis.call('TTL', key) < ttl then redis.call('EXPIRE', key, ttl) end
  end
end
return 1
"""

# KEYS: zset, hash.  ARGV: now.  Prunes, then sums the live entries.
_USED = """
local expired = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1])
for j = 1, #expired, 500 do
  redis.call('HDEL', KEYS[2], unpack(expired, j, math.min(j + 499, #expired)))
end
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[1])
local used = 0
for _, value in ipairs(redis.call('HVALS', KEYS[2])) do used = used + tonumber(value) end
return tostring(used)
"""


class RedisLimiter:
    def __init__(
        self, url: str, *, prefix: str = "modelyard:", clock: Callable[[], float] = time.time
    ) -> None:
        import redis.asyncio as aioredis  # lazy: only deployments with Redis need it

        self._redis: Any = aioredis.Redis.from_url(url, decode_responses=True)
        self._prefix = prefix
        self._clock = clock
        self._acquire = self._redis.register_script(_ACQUIRE)
        self._adjust = self._redis.register_script(_ADJUST)
        self._used = self._redis.register_script(_USED)
        # Adjustments run in the background; held here so they are not collected midway.
        self._pending: set[asyncio.Task[Any]] = set()

    def _keys(self, bucket: str) -> list[str]:
        return [f"{self._prefix}{bucket}:z", f"{self._prefix}{bucket}:h"]

    async def acquire(self, entry: str, checks: Sequence[Check]) -> Refusal | None:
        now = self._clock()
        keys: list[str] = []
        args: list[Any] = [repr(now), entry]
        for check in checks:
            keys += self._keys(check.bucket)
            args += [repr(check.amount), repr(check.limit), repr(check.floor), repr(now + check.ttl_s)]
        result = await self._acquire(keys=keys, args=args)
        if int(result[0]) == 0:
            return None
        check, retry = checks[int(result[0]) - 1], result[1]
        # Racing calls reach Redis in another order than they read the clock, so "now" may
        # step back a little: no entry lives longer than its ttl, whatever the arithmetic says.
        return Refusal(check, min(float(retry), check.ttl_s) if retry != "" else None)

    def adjust(self, entry: str, bucket: str, amount: float, ttl_s: float | None = None) -> None:
        now = self._clock()
        expires = "" if ttl_s is None else repr(now + ttl_s)
        call = self._adjust(keys=self._keys(bucket), args=[entry, repr(max(amount, 0.0)), expires, repr(now)])
        task = asyncio.ensure_future(call)
        self._pending.add(task)
        task.add_done_callback(self._adjusted)

    def _adjusted(self, task: asyncio.Task[Any]) -> None:
        self._pending.discard(task)
        if not task.cancelled() and task.exception() is not None:
            # The entry then keeps its reserved amount until it expires: errs on refusing.
            log.warning("adjusting a rate-limit entry failed: %s", task.exception())

    async def drain(self) -> None:
        """Wait for the background adjustments (tests, shutdown)."""
        while self._pending:
            await asyncio.gather(*list(self._pending), return_exceptions=True)

    async def used(self, buckets: Sequence[str]) -> list[float]:
        now = repr(self._clock())
        return [float(await self._used(keys=self._keys(bucket), args=[now])) for bucket in buckets]

    async def close(self) -> None:
        await self.drain()
        await self._redis.aclose()


def _from_settings(settings: Settings) -> RedisLimiter:
    if not settings.redis_url:
        raise ValueError("the redis rate limiter needs MODELYARD_REDIS_URL")
    return RedisLimiter(settings.redis_url, prefix=settings.redis_key_prefix)


register_limiter("redis")(_from_settings)
