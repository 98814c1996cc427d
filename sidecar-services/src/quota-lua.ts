// The Lua scripts of the Redis quota store. Each runs atomically in Redis, so every check and every
// increment of one Reserve (tenant and key, all windows) happens as one step for all replicas.
// The window rules are in quota-windows.ts; quota-memory.ts is the same algorithm in TypeScript
// (keep them in step: the store tests run against both), except that only the scripts keep running
// totals of the rolling minute (RESERVE totals): in Redis, reading every bucket per request cost
// more than the rest of the script.
//
// Counters are integers (requests, tokens, micro-dollars) well below 2^53, exact as Lua numbers.

/**
 * RESERVE
 * KEYS: 1 reservation record, then per scope (tenant, then key): minute hash, day hash, month hash.
 * ARGV: 1 now ms, 2 tokens, 3 cost µ$, 4 day end ms, 5 month end ms, 6 record TTL s, 7 day tag,
 *       8 month tag, 9 key id ("" = none), 10 number of scopes (1|2), then per scope 6 limits
 *       (rpm, tpm, tpd, tpmo, usd/day µ$, usd/month µ$; 0 = none), then, for a lease (optional,
 *       with its record as the last key): max requests, max tokens, headroom divisor, min requests,
 *       renewal (1 = only the lease is asked for: no request of its own is counted and no
 *       reservation record written; the checks still ask whether one more request would fit).
 * Reply: {deny (0 = allowed, else 1-based check index), retry-after s, then per scope 10 usage
 *         numbers in quota-windows.ts USAGE_FIELDS order (after this request and the lease), then
 *         the lease's requests and tokens (0 0 = none)}.
 */
export const RESERVE_LUA = `
local now_ms = tonumber(ARGV[1])
local now_s = math.floor(now_ms / 1000)
local oldest = now_s - 59
local tokens = tonumber(ARGV[2])
local usd = tonumber(ARGV[3])
local day_end = tonumber(ARGV[4])
local month_end = tonumber(ARGV[5])
local ttl = tonumber(ARGV[6])
local nscopes = tonumber(ARGV[10])

local function num(v) return tonumber(v or '0') or 0 end

-- The running totals of a minute hash (fields R, T, o), not buckets.
local function is_total(f) return f == 'R' or f == 'T' or f == 'o' end

-- Live buckets of a minute hash; expired fields are deleted on the way. Only for refusals (retry
-- times) and the rare answer that needs the newest token bucket: it reads every bucket.
local function minute(key)
  local raw = redis.call('HGETALL', key)
  local r, t, stale = {}, {}, {}
  for i = 1, #raw, 2 do
    local f = raw[i]
    local sec = tonumber(string.sub(f, 2))
    if is_total(f) then
      -- not a bucket
    elseif sec == nil or sec < oldest then
      stale[#stale + 1] = f
    elseif string.sub(f, 1, 1) == 'r' then
      r[sec] = tonumber(raw[i + 1])
    else
      t[sec] = tonumber(raw[i + 1])
    end
  end
  if #stale > 0 then redis.call('HDEL', key, unpack(stale)) end
  return r, t
end

-- Requests and tokens in the rolling minute from the hash's running totals: R and T are the sums of
-- its r<sec> and t<sec> buckets from second o on, and every bucket left in the hash is in them.
-- Buckets that left the window since o are subtracted and deleted here (usually one second's), so
-- a Reserve reads three fields instead of all 120 buckets: that read and parse was most of the
-- script's time. A hash without totals (new, or written before they existed) is summed once.
-- Returns R, T and whether o must still be written (a hash that does not exist yet).
local function totals(key)
  local h = redis.call('HMGET', key, 'R', 'T', 'o')
  local R, T, o = tonumber(h[1]), tonumber(h[2]), tonumber(h[3])
  if R ~= nil and T ~= nil and o ~= nil and oldest - o <= 60 then
    if o < oldest then
      local names = {}
      for sec = o, oldest - 1 do
        names[#names + 1] = 'r' .. sec
        names[#names + 1] = 't' .. sec
      end
      local v = redis.call('HMGET', key, unpack(names))
      for i = 1, #names, 2 do
        R = R - num(v[i])
        T = T - num(v[i + 1])
      end
      redis.call('HDEL', key, unpack(names))
      redis.call('HSET', key, 'R', R, 'T', T, 'o', oldest)
    end
    return R, T, false
  end
  local raw = redis.call('HGETALL', key)
  if #raw == 0 then return 0, 0, true end
  R, T = 0, 0
  local stale = {}
  for i = 1, #raw, 2 do
    local f = raw[i]
    local sec = tonumber(string.sub(f, 2))
    if is_total(f) then
      -- recomputed below
    elseif sec == nil or sec < oldest then
      stale[#stale + 1] = f
    elseif string.sub(f, 1, 1) == 'r' then
      R = R + tonumber(raw[i + 1])
    else
      T = T + tonumber(raw[i + 1])
    end
  end
  if #stale > 0 then redis.call('HDEL', key, unpack(stale)) end
  redis.call('HSET', key, 'R', R, 'T', T, 'o', oldest)
  return R, T, false
end

-- A scope's buckets, read once and only when needed.
local function buckets(st)
  if st.r == nil then st.r, st.t = minute(st.mk) end
  return st.r, st.t
end

local function total(b)
  local n, newest = 0, -1
  for s, v in pairs(b) do
    n = n + v
    if v > 0 and s > newest then newest = s end
  end
  return n, newest
end

-- Seconds until 'need' units have left the rolling window (oldest buckets leave first).
local function retry_rolling(b, need)
  local secs = {}
  for s, v in pairs(b) do if v > 0 then secs[#secs + 1] = s end end
  table.sort(secs)
  local freed = 0
  for _, s in ipairs(secs) do
    freed = freed + b[s]
    if freed >= need then return math.ceil(((s + 60) * 1000 - now_ms) / 1000) end
  end
  return 60
end

local function reset_ms(newest)
  if newest < 0 then return 0 end
  return (newest + 60) * 1000 - now_ms
end

local day_retry = math.ceil((day_end - now_ms) / 1000)
local month_retry = math.ceil((month_end - now_ms) / 1000)
local deny, retry = 0, 0
local state = {}
for s = 1, nscopes do
  local mk, dk, mok = KEYS[2 + (s - 1) * 3], KEYS[3 + (s - 1) * 3], KEYS[4 + (s - 1) * 3]
  local rn, tn, new_hash = totals(mk)
  local d = redis.call('HMGET', dk, 'req', 'tok', 'usd')
  local mo = redis.call('HMGET', mok, 'req', 'tok', 'usd')
  local st = { mk = mk, dk = dk, mok = mok, rn = rn, tn = tn, new_hash = new_hash, rnew = -1, tnew = -1,
    dreq = num(d[1]), dtok = num(d[2]), dusd = num(d[3]), mreq = num(mo[1]), mtok = num(mo[2]), musd = num(mo[3]) }
  state[s] = st
  local a = 10 + (s - 1) * 6
  local rpm, tpm, tpd, tpmo = tonumber(ARGV[a + 1]), tonumber(ARGV[a + 2]), tonumber(ARGV[a + 3]), tonumber(ARGV[a + 4])
  local uday, umonth = tonumber(ARGV[a + 5]), tonumber(ARGV[a + 6])
  local function fail(check, after)
    if deny == 0 then deny = (s - 1) * 6 + check end
    if after > retry then retry = after end
  end
  if rpm > 0 and st.rn + 1 > rpm then fail(1, retry_rolling((buckets(st)), st.rn + 1 - rpm)) end
  if tpm > 0 and st.tn + tokens > tpm then fail(2, retry_rolling(select(2, buckets(st)), st.tn + tokens - tpm)) end
  if tpd > 0 and st.dtok + tokens > tpd then fail(3, day_retry) end
  if tpmo > 0 and st.mtok + tokens > tpmo then fail(4, month_retry) end
  if uday > 0 and st.dusd >= uday then fail(5, day_retry) end
  if umonth > 0 and st.musd >= umonth then fail(6, month_retry) end
end

-- A lease (docs/decisions/0004-quota-hot-path.md): after this request, a block of requests and
-- tokens the filter VM may admit locally for a short time, counted here at once in this second's
-- bucket and this day's and month's counters. Granted only far from every limit: its size is a
-- 1/div share of the smallest headroom (capped); below min_req requests, or fewer tokens than this
-- request needed, none, so near a limit every request is decided here, exactly. Never for a scope
-- with a USD budget (the filter cannot price requests), never twice under one lease id.
local la = 10 + nscopes * 6
local renewal = ARGV[la + 5] == '1'
local function lease()
  local max_req = tonumber(ARGV[la + 1] or '0') or 0
  local lkey = KEYS[2 + nscopes * 3]
  if max_req <= 0 or lkey == nil then return 0, 0 end
  local max_tok, div, min_req = tonumber(ARGV[la + 2]), tonumber(ARGV[la + 3]), tonumber(ARGV[la + 4])
  local hr, ht = max_req * div, max_tok * div
  for s = 1, nscopes do
    local st = state[s]
    local a = 10 + (s - 1) * 6
    local rpm, tpm, tpd, tpmo = tonumber(ARGV[a + 1]), tonumber(ARGV[a + 2]), tonumber(ARGV[a + 3]), tonumber(ARGV[a + 4])
    if tonumber(ARGV[a + 5]) > 0 or tonumber(ARGV[a + 6]) > 0 then return 0, 0 end
    if rpm > 0 then hr = math.min(hr, rpm - st.rn) end
    if tpm > 0 then ht = math.min(ht, tpm - st.tn) end
    if tpd > 0 then ht = math.min(ht, tpd - st.dtok) end
    if tpmo > 0 then ht = math.min(ht, tpmo - st.mtok) end
  end
  local lr = math.min(max_req, math.floor(hr / div))
  local lt = math.min(max_tok, math.floor(ht / div))
  if lr < min_req or lt < tokens or lt <= 0 then return 0, 0 end
  if redis.call('EXISTS', lkey) == 1 then return 0, 0 end
  for s = 1, nscopes do
    local st = state[s]
    redis.call('HINCRBY', st.mk, 'r' .. now_s, lr)
    redis.call('HINCRBY', st.mk, 'R', lr)
    redis.call('HINCRBY', st.mk, 't' .. now_s, lt)
    redis.call('HINCRBY', st.mk, 'T', lt)
    redis.call('HINCRBY', st.dk, 'req', lr)
    redis.call('HINCRBY', st.dk, 'tok', lt)
    redis.call('HINCRBY', st.mok, 'req', lr)
    redis.call('HINCRBY', st.mok, 'tok', lt)
    -- Lifetimes as for a request (a renewal counts none of its own that would set them).
    if st.new_hash then redis.call('HSET', st.mk, 'o', oldest) end
    redis.call('EXPIRE', st.mk, 61)
    redis.call('PEXPIREAT', st.dk, day_end + ttl * 1000)
    redis.call('PEXPIREAT', st.mok, month_end + ttl * 1000)
    st.rn, st.tn, st.rnew, st.tnew = st.rn + lr, st.tn + lt, now_s, now_s
    st.dreq, st.dtok = st.dreq + lr, st.dtok + lt
    st.mreq, st.mtok = st.mreq + lr, st.mtok + lt
  end
  redis.call('HSET', lkey, 's', now_s, 'd', ARGV[7], 'm', ARGV[8], 'k', ARGV[9], 'req', lr, 'tok', lt)
  redis.call('EXPIRE', lkey, ttl)
  return lr, lt
end

local lease_req, lease_tok = 0, 0
if deny == 0 and not renewal then
  for s = 1, nscopes do
    local st = state[s]
    -- The newest token bucket before this request, when this request adds no tokens.
    if tokens == 0 then st.tnew = select(2, total(select(2, buckets(st)))) end
    redis.call('HINCRBY', st.mk, 'r' .. now_s, 1)
    redis.call('HINCRBY', st.mk, 'R', 1)
    if tokens > 0 then
      redis.call('HINCRBY', st.mk, 't' .. now_s, tokens)
      redis.call('HINCRBY', st.mk, 'T', tokens)
    end
    if st.new_hash then redis.call('HSET', st.mk, 'o', oldest) end
    redis.call('EXPIRE', st.mk, 61)
    redis.call('HINCRBY', st.dk, 'req', 1)
    redis.call('HINCRBY', st.dk, 'tok', tokens)
    redis.call('HINCRBY', st.dk, 'usd', usd)
    -- Kept past the window so late settlements still find it.
    redis.call('PEXPIREAT', st.dk, day_end + ttl * 1000)
    redis.call('HINCRBY', st.mok, 'req', 1)
    redis.call('HINCRBY', st.mok, 'tok', tokens)
    redis.call('HINCRBY', st.mok, 'usd', usd)
    redis.call('PEXPIREAT', st.mok, month_end + ttl * 1000)
    st.rn = st.rn + 1
    st.rnew = now_s
    st.tn = st.tn + tokens
    if tokens > 0 then st.tnew = now_s end
    st.dreq, st.dtok, st.dusd = st.dreq + 1, st.dtok + tokens, st.dusd + usd
    st.mreq, st.mtok, st.musd = st.mreq + 1, st.mtok + tokens, st.musd + usd
  end
end
if deny == 0 then
  lease_req, lease_tok = lease()
end
if deny == 0 and not renewal then
  -- Reservation ids are 128 random bits made by the filter, so an existing record means the same
  -- Reserve arrived twice: keep the first record; the repeat stays counted at its estimate.
  if redis.call('EXISTS', KEYS[1]) == 0 then
    redis.call('HSET', KEYS[1], 's', now_s, 'd', ARGV[7], 'm', ARGV[8], 'k', ARGV[9], 'tok', tokens, 'usd', usd)
    redis.call('EXPIRE', KEYS[1], ttl)
  end
end

local reply = { deny, retry }
for s = 1, nscopes do
  local st = state[s]
  if deny ~= 0 then
    local r, t = buckets(st)
    st.rnew = select(2, total(r))
    st.tnew = select(2, total(t))
  end
  for _, v in ipairs({ st.rn, st.tn, reset_ms(st.rnew), reset_ms(st.tnew),
      st.dreq, st.dtok, st.dusd, st.mreq, st.mtok, st.musd }) do
    reply[#reply + 1] = v
  end
end
reply[#reply + 1] = lease_req
reply[#reply + 1] = lease_tok
return reply
`;

// Moves one record's counters by dr requests, dt tokens, du µ$ (sec: the record's bucket second;
// KEYS from 2 on: per scope minute, day, month hash). Shared by SETTLE, RETURN and SETTLE_LEASE
// (quota-settle-batch.ts).
export const APPLY_LUA = `
local function apply(sec, now_s, dr, dt, du)
  for i = 2, #KEYS, 3 do
    local mk, dk, mok = KEYS[i], KEYS[i + 1], KEYS[i + 2]
    -- A bucket that has left the rolling minute no longer counts: nothing to correct there.
    -- A bucket still in the hash is in the running totals (see RESERVE totals): move both.
    if sec >= now_s - 59 then
      local has_totals = redis.call('HEXISTS', mk, 'o') == 1
      if dr ~= 0 and redis.call('HEXISTS', mk, 'r' .. sec) == 1 then
        redis.call('HINCRBY', mk, 'r' .. sec, dr)
        if has_totals then redis.call('HINCRBY', mk, 'R', dr) end
      end
      if dt ~= 0 and redis.call('HEXISTS', mk, 't' .. sec) == 1 then
        redis.call('HINCRBY', mk, 't' .. sec, dt)
        if has_totals then redis.call('HINCRBY', mk, 'T', dt) end
      end
    end
    for _, k in ipairs({ dk, mok }) do
      if redis.call('EXISTS', k) == 1 then
        if dr ~= 0 then redis.call('HINCRBY', k, 'req', dr) end
        if dt ~= 0 then redis.call('HINCRBY', k, 'tok', dt) end
        if du ~= 0 then redis.call('HINCRBY', k, 'usd', du) end
      end
    end
  end
end
`;

/**
 * SETTLE
 * KEYS: 1 reservation or lease record, then per scope: minute hash, day hash, month hash (from the record).
 * ARGV: 1 now ms, 2 release (1|0), 3 actual tokens, 4 actual cost µ$, 5..8 the record's s, d, m, k
 *       as read by the caller (the keys were derived from them), 9 (lease records only) the tokens
 *       the filter counted against the lease for this request.
 * Reply: 0 no record, -1 the record changed since it was read (read again), 1 settled, 2 released.
 * A reservation record is deleted (one request); a lease record stays for its other requests, and
 * its requests carry no cost estimate (leases are never granted against a USD budget).
 */
export const SETTLE_LUA = APPLY_LUA + `
local f = redis.call('HMGET', KEYS[1], 's', 'd', 'm', 'k', 'tok', 'usd')
if not f[1] then return 0 end
if f[1] ~= ARGV[5] or f[2] ~= ARGV[6] or f[3] ~= ARGV[7] or f[4] ~= ARGV[8] then return -1 end
local rtok, rusd = tonumber(f[5]), tonumber(f[6] or '0')
local leased = ARGV[9] ~= nil and ARGV[9] ~= ''
if leased then
  -- Never more than the lease held: a report cannot take back more than was counted.
  rtok, rusd = math.min(tonumber(ARGV[9]), rtok), 0
else
  redis.call('DEL', KEYS[1])
end
local now_s = math.floor(tonumber(ARGV[1]) / 1000)
local dr, dt, du = 0, tonumber(ARGV[3]) - rtok, tonumber(ARGV[4]) - rusd
local result = 1
if ARGV[2] == '1' then
  dr, dt, du, result = -1, -rtok, -rusd, 2
end
apply(tonumber(f[1]), now_s, dr, dt, du)
return result
`;

/**
 * RETURN (a lease's unused part)
 * KEYS: 1 lease record, then per scope: minute hash, day hash, month hash (from the record).
 * ARGV: 1 now ms, 2 unused requests, 3 unused tokens, 4..7 the record's s, d, m, k as read.
 * Reply: 0 no record, -1 the record changed since it was read, 1 returned, 2 returned before
 * (a lease is returned once: a repeated or replayed return moves nothing).
 */
export const RETURN_LUA = APPLY_LUA + `
local f = redis.call('HMGET', KEYS[1], 's', 'd', 'm', 'k', 'req', 'tok', 'ret')
if not f[1] then return 0 end
if f[1] ~= ARGV[4] or f[2] ~= ARGV[5] or f[3] ~= ARGV[6] or f[4] ~= ARGV[7] then return -1 end
if f[7] then return 2 end
redis.call('HSET', KEYS[1], 'ret', 1)
local dr = -math.min(tonumber(ARGV[2]), tonumber(f[5]))
local dt = -math.min(tonumber(ARGV[3]), tonumber(f[6]))
apply(tonumber(f[1]), math.floor(tonumber(ARGV[1]) / 1000), dr, dt, 0)
return 1
`;
