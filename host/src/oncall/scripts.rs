//! Lua scripts that make each on-call transition atomic in Redis. Keys,
//! for a shard's base `{b}` (see [`super::shard`]): `{b}inc:{id}` (hash),
//! `{b}due` (sorted set: id → due time in ms), `{b}dedup:{key}` (string:
//! id of the open incident). Every key a script touches is in one shard;
//! the base is passed as an argument so a script can reach the hash of an
//! id it reads. A dedup key is passed only when there is one, since an
//! empty key name would hash to another slot.
//!
//! Retention: an incident that needs no more action gets a TTL (see
//! [`super::Retention`]), and so does its dedup key while it names it;
//! pending and escalating incidents never expire. [`RETIRE`] is prepended
//! to the scripts that finish an incident.

/// `retire(k, id, ms)`: expire the incident hash `k` and, when it still
/// names incident `id`, its dedup key (kept in the hash's `dedup` field).
pub const RETIRE: &str = r#"
local function retire(k, id, ms)
  redis.call('PEXPIRE', k, ms)
  local d = redis.call('HGET', k, 'dedup')
  if d and redis.call('GET', d) == id then redis.call('PEXPIRE', d, ms) end
end
"#;

/// Create, or join an open incident with the same dedup key: one pending,
/// being escalated or escalated, or one acknowledged less than the ACK
/// expiry ago; a repeat keeps an escalated incident for another retention
/// period. KEYS: inc, due, dedup (when there is one). ARGV: id, record
/// json, deadline ms, now ms, base, ack_exp, ack expiry ms, retention ms.
/// Returns {"new"} or {"joined", id, state, ack_exp}.
pub const CREATE: &str = r#"
if KEYS[3] then
  local open = redis.call('GET', KEYS[3])
  if open then
    local k = ARGV[5] .. 'inc:' .. open
    local st = redis.call('HGET', k, 'state')
    local joins = st == 'pending' or st == 'escalating' or st == 'escalated'
    if st == 'acknowledged' then
      local acked = tonumber(redis.call('HGET', k, 'acked_ms') or '0')
      joins = acked + tonumber(ARGV[7]) > tonumber(ARGV[4])
    end
    if joins then
      redis.call('HINCRBY', k, 'repeats', 1)
      if st == 'escalated' then retire(k, open, ARGV[8]) end
      return {'joined', open, st, redis.call('HGET', k, 'ack_exp') or '0'}
    end
  end
end
redis.call('HSET', KEYS[1], 'record', ARGV[2], 'state', 'pending', 'attempts', 0, 'repeats', 0, 'ack_exp', ARGV[6])
redis.call('ZADD', KEYS[2], ARGV[3], ARGV[1])
if KEYS[3] then
  redis.call('SET', KEYS[3], ARGV[1])
  redis.call('HSET', KEYS[1], 'dedup', KEYS[3])
end
return {'new'}
"#;

/// Take back a new incident that did not reach enough replicas: while it
/// is still pending, its hash, its due entry and its dedup key (when that
/// still names it) go. KEYS: inc, due, dedup (when there is one). ARGV:
/// id.
/// Returns 1 when it was removed.
pub const UNCREATE: &str = r#"
if redis.call('HGET', KEYS[1], 'state') ~= 'pending' then return 0 end
redis.call('DEL', KEYS[1])
redis.call('ZREM', KEYS[2], ARGV[1])
if KEYS[3] and redis.call('GET', KEYS[3]) == ARGV[1] then redis.call('DEL', KEYS[3]) end
return 1
"#;

/// Acknowledge a pending incident. KEYS: inc, due. ARGV: id, now ms,
/// ms to keep it (ACK hold + retention), who (JSON, or "" when unknown).
/// Returns "done", "unknown" or the state it was in.
pub const ACK: &str = r#"
local st = redis.call('HGET', KEYS[1], 'state')
if not st then return 'unknown' end
if st ~= 'pending' then return st end
redis.call('HSET', KEYS[1], 'state', 'acknowledged', 'acked_ms', ARGV[2])
if ARGV[4] and ARGV[4] ~= '' then redis.call('HSET', KEYS[1], 'acked_by', ARGV[4]) end
redis.call('ZREM', KEYS[2], ARGV[1])
retire(KEYS[1], ARGV[1], ARGV[3])
return 'done'
"#;

/// Page a pending incident at once ("Escalate now"): its due time moves
/// to now, so the next claim takes it. KEYS: inc, due. ARGV: id, now ms,
/// who and when (JSON). Returns "done", "unknown" or the state it was in.
pub const ESCALATE_NOW: &str = r#"
local st = redis.call('HGET', KEYS[1], 'state')
if not st then return 'unknown' end
if st ~= 'pending' then return st end
redis.call('ZADD', KEYS[2], ARGV[2], ARGV[1])
redis.call('HSET', KEYS[1], 'escalate_now', ARGV[3])
return 'done'
"#;

/// Claim due incidents: pending (or escalating whose lease ran out) become
/// escalating, and their score moves to the lease end, so a replica that
/// dies mid-escalation leaves them to be claimed again. An escalated
/// incident with a target still paging (`paging` = 1) and no resolve is
/// claimed the same way but keeps its state. Entries in any other state
/// are dropped from the set. KEYS: due. ARGV: now ms, lease-until ms,
/// limit, base. Returns the claimed ids.
pub const CLAIM: &str = r#"
local ids = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'LIMIT', 0, tonumber(ARGV[3]))
local out = {}
for _, id in ipairs(ids) do
  local k = ARGV[4] .. 'inc:' .. id
  local st = redis.call('HGET', k, 'state')
  local paging = st == 'escalated' and redis.call('HGET', k, 'paging') == '1'
    and redis.call('HEXISTS', k, 'resolved_ms') == 0
  if st == 'pending' or st == 'escalating' or paging then
    if st == 'pending' then redis.call('HSET', k, 'state', 'escalating') end
    redis.call('ZADD', KEYS[1], ARGV[2], id)
    table.insert(out, id)
  else
    redis.call('ZREM', KEYS[1], id)
  end
end
return out
"#;

/// Record the end of one escalation round: each target's status (field
/// `targets`) and each call made as the field `attempt:{n}` (n = 1, 2,
/// …). The round's outcome: "escalated" (every target done, one paged),
/// "paging" (one paged, another is due again at the retry time), "retry"
/// (none paged yet) or "failed" (none paged, all done). KEYS: inc, due.
/// ARGV: id, outcome, now ms, retry-at ms, error ("" for none), retention
/// ms, targets json, then one attempt entry json per call.
/// Returns 0 when the incident was not being escalated (nothing written).
pub const FINISH: &str = r#"
local st = redis.call('HGET', KEYS[1], 'state')
if st ~= 'escalating' and not (st == 'escalated' and redis.call('HGET', KEYS[1], 'paging') == '1') then
  return 0
end
for i = 8, #ARGV do
  local n = redis.call('HINCRBY', KEYS[1], 'attempts', 1)
  redis.call('HSET', KEYS[1], 'attempt:' .. n, ARGV[i])
end
redis.call('HSET', KEYS[1], 'targets', ARGV[7])
if ARGV[5] ~= '' then redis.call('HSET', KEYS[1], 'last_error', ARGV[5]) end
local outcome = ARGV[2]
if (outcome == 'escalated' or outcome == 'paging') and st ~= 'escalated' then
  redis.call('HSET', KEYS[1], 'state', 'escalated', 'escalated_ms', ARGV[3])
end
if outcome == 'escalated' then
  redis.call('HSET', KEYS[1], 'paging', 0)
  redis.call('ZREM', KEYS[2], ARGV[1])
  retire(KEYS[1], ARGV[1], ARGV[6])
elseif outcome == 'failed' then
  redis.call('HSET', KEYS[1], 'state', 'escalation_failed', 'failed_ms', ARGV[3])
  redis.call('ZREM', KEYS[2], ARGV[1])
  retire(KEYS[1], ARGV[1], ARGV[6])
else
  if outcome == 'paging' then redis.call('HSET', KEYS[1], 'paging', 1) end
  redis.call('ZADD', KEYS[2], ARGV[4], ARGV[1])
end
return 1
"#;

/// A resolved notification. KEYS: dedup, due. ARGV: base, now ms,
/// retention ms (an incident being escalated gets its TTL when the
/// attempt ends).
/// Returns {"none"}, {"cancelled", id} or {"closed", id, state}.
pub const RESOLVE: &str = r#"
local id = redis.call('GET', KEYS[1])
if not id then return {'none'} end
redis.call('DEL', KEYS[1])
local k = ARGV[1] .. 'inc:' .. id
local st = redis.call('HGET', k, 'state')
if not st then return {'none'} end
redis.call('HSET', k, 'resolved_ms', ARGV[2])
if st ~= 'escalating' then redis.call('PEXPIRE', k, ARGV[3]) end
if st == 'pending' then
  redis.call('HSET', k, 'state', 'resolved')
  redis.call('ZREM', KEYS[2], id)
  return {'cancelled', id}
end
if st == 'acknowledged' then redis.call('HSET', k, 'state', 'resolved') end
return {'closed', id, st}
"#;

/// Append delivered-message receipts. KEYS: inc. ARGV: a non-empty JSON
/// array of receipts. The two arrays are joined as text, so concurrent
/// appends from several replicas never lose one. Returns the incident's
/// state as it was when the receipts were added, or '' when the incident
/// does not exist (nothing is written).
pub const ADD_RECEIPTS: &str = r#"
if redis.call('EXISTS', KEYS[1]) == 0 then return '' end
local cur = redis.call('HGET', KEYS[1], 'receipts')
if cur and cur ~= '[]' then
  redis.call('HSET', KEYS[1], 'receipts', string.sub(cur, 1, -2) .. ',' .. string.sub(ARGV[1], 2))
else
  redis.call('HSET', KEYS[1], 'receipts', ARGV[1])
end
return redis.call('HGET', KEYS[1], 'state')
"#;

/// Claim the showing of a status change on one delivered message: the
/// message's shown rank moves up to the change's, or nothing happens when
/// it is already there or past it (a resolved message never goes back to
/// "escalated"). KEYS: inc. ARGV: the message's field (`shown:…`), rank.
/// Returns 1 to the one caller that should update the message, else 0.
pub const SHOW: &str = r#"
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
local cur = tonumber(redis.call('HGET', KEYS[1], ARGV[1]) or '0')
if cur >= tonumber(ARGV[2]) then return 0 end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
return 1
"#;
