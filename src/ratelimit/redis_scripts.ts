/**
 * Lua run inside Redis by the Redis limiter. `CHECK_SCRIPT` is the Lua twin of `decide()` in
 * sliding_window.ts: the same formulas in the same order, so both backends give the same answers.
 * Each window is a hash with fields `r` (requests) and `t` (tokens).
 */

/**
 * Reads both windows, decides, and counts an allowed request, atomically (Redis runs one script at
 * a time, so parallel checks from any number of gateway instances cannot overshoot the limit).
 * KEYS: current window, previous window.
 * ARGV: window_ms, elapsed_ms in the current window, request limit, token limit (-1: none), ttl_ms.
 * Returns {exceeded (0 none, 1 requests, 2 tokens), remaining, reset_ms}.
 */
export const CHECK_SCRIPT = `
local w = tonumber(ARGV[1])
local elapsed = tonumber(ARGV[2])
local max_requests = tonumber(ARGV[3])
local max_tokens = tonumber(ARGV[4])
local cur = redis.call('HMGET', KEYS[1], 'r', 't')
local prev = redis.call('HMGET', KEYS[2], 'r', 't')
local cur_r = tonumber(cur[1]) or 0
local cur_t = tonumber(cur[2]) or 0
local prev_r = tonumber(prev[1]) or 0
local prev_t = tonumber(prev[2]) or 0

local function usage(p, c)
  return p * (w - elapsed) / w + c
end

local function ms_until_below(p, c, limit)
  if c < limit then
    return math.floor(w - w * (limit - c) / p) + 1 - elapsed
  end
  if c == 0 then
    return w - elapsed
  end
  return w - elapsed + math.floor(w - w * limit / c) + 1
end

local used = usage(prev_r, cur_r)
local exceeded = 0
local reset = w - elapsed
if used >= max_requests then
  exceeded = 1
  reset = ms_until_below(prev_r, cur_r, max_requests)
end
if max_tokens >= 0 and usage(prev_t, cur_t) >= max_tokens then
  local wait = ms_until_below(prev_t, cur_t, max_tokens)
  if exceeded == 0 then
    exceeded = 2
    reset = wait
  elseif wait > reset then
    reset = wait
  end
end
if exceeded == 0 then
  redis.call('HINCRBY', KEYS[1], 'r', 1)
  redis.call('PEXPIRE', KEYS[1], ARGV[5])
  used = used + 1
end
local remaining = math.ceil(max_requests - used)
if remaining < 0 then
  remaining = 0
end
return {exceeded, remaining, reset}
`;

/**
 * Adds tokens to the current window and renews its expiry in one round trip.
 * KEYS: current window. ARGV: tokens, ttl_ms.
 */
export const ADD_TOKENS_SCRIPT = `
redis.call('HINCRBY', KEYS[1], 't', ARGV[1])
redis.call('PEXPIRE', KEYS[1], ARGV[2])
return 0
`;
