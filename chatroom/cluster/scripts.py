"""
The Lua scripts that make each change to shared presence atomic in Redis.

Keys (all under a prefix, C{chatroom:} by default):

  - C{name:<key>}, C{shown:<shown key>}: a name held, cluster-wide; the value
    is C{<node>\\t<name>} so a refusal can say whose name it looks like.
  - C{held:<node>}: the set of those keys a node holds (so its death frees them).
  - C{present}: hash, name key -> JSON C{[node, name, transport]}: C{C USERS}.
  - C{members:<node>}: the name keys present on a node.
  - C{nodes}: sorted set, node -> the Redis time (ms) of its last heartbeat.
  - C{clock}: the Redis time of the last heartbeat of any node.
  - C{reaped:<node>}: a node declared dead (kept an hour), so that it knows,
    if it comes back, that its users were announced gone.

Channels: C{room} (public messages, joins and leaves, GHOST replacements, a node's users
told again after an outage, JSON) and C{node:<node>}
(direct messages to that node's users, and the replies to them).
"""

from __future__ import annotations

_HELPERS = """
local P = ARGV[1]
local node = ARGV[2]
local function mine(value) return value and string.sub(value, 1, #node + 1) == node .. '\\t' end
local function other(value) return value and not mine(value) end
"""

#: A command Redis runs after the node gave up on it (it sat in a paused
#: Redis) must do nothing: the client was told ERR UNAVAILABLE. Its last
#: argument is the node's deadline, in ms since the epoch; past it, -1.
_LATE = """
local function late()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000) > tonumber(ARGV[#ARGV])
end
"""

#: KEYS: name key, shown key; ARGV: prefix, node, name, name key, ghost (1 or
#: 0), deadline. Nil if now held by the node, else the C{node\\tname} value
#: of the key that someone else holds (-1: too late). A C{GHOST} login for a
#: name present on another node holds nothing yet: C{{node, name}} of the
#: session it may replace (L{TAKEOVER}, once the password is right).
RESERVE = (
    _HELPERS
    + _LATE
    + """
if late() then return -1 end
local held = redis.call('GET', KEYS[1])
if ARGV[5] == '1' and other(held) then
  local v = redis.call('HGET', P .. 'present', ARGV[4])
  local shown = redis.call('GET', KEYS[2])
  if v then
    local e = cjson.decode(v)
    if held == e[1] .. '\\t' .. e[2] and (not other(shown) or shown == held) then
      return {e[1], e[2]}
    end
  end
end
for i = 1, 2 do
  local v = redis.call('GET', KEYS[i])
  if other(v) then return v end
end
for i = 1, 2 do
  redis.call('SET', KEYS[i], node .. '\\t' .. ARGV[3])
  redis.call('SADD', P .. 'held:' .. node, KEYS[i])
end
return false
"""
)

#: KEYS: name key, shown key, the replaced session's shown key; ARGV: prefix,
#: node, name, name key, replaced name, deadline. A C{GHOST} login whose
#: password was right takes the name from the session present on another
#: node as C{replaced name}, in one step: that session is no longer present,
#: its node's holds are gone, this node holds the name, and every node hears
#: C{ghost} (its node closes it; all say C{LEAVE … REPLACED}). Nil if the name
#: is now held by this node and nobody was replaced (they had left), the
#: C{{name, transport}} of the session replaced, or the C{node\\tname}
#: value of a key someone else holds (nothing changed; -1: too late).
TAKEOVER = (
    _HELPERS
    + _LATE
    + """
if late() then return -1 end
local held = redis.call('GET', KEYS[1])
local shown = redis.call('GET', KEYS[2])
local gone = nil
if other(held) then
  local v = redis.call('HGET', P .. 'present', ARGV[4])
  if not v then return held end
  gone = cjson.decode(v)
  if held ~= gone[1] .. '\\t' .. gone[2] or gone[2] ~= ARGV[5] then return held end
end
if other(shown) and shown ~= held then return shown end
if gone then
  redis.call('HDEL', P .. 'present', ARGV[4])
  redis.call('SREM', P .. 'members:' .. gone[1], ARGV[4])
  for _, k in ipairs(KEYS) do
    if redis.call('GET', k) == held then
      redis.call('DEL', k)
      redis.call('SREM', P .. 'held:' .. gone[1], k)
    end
  end
end
for i = 1, 2 do
  redis.call('SET', KEYS[i], node .. '\\t' .. ARGV[3])
  redis.call('SADD', P .. 'held:' .. node, KEYS[i])
end
if not gone then return false end
local said = {'ghost', gone[1], node, ARGV[4], gone[2], gone[3]}
redis.call('PUBLISH', P .. 'room', cjson.encode(said))
return {gone[2], gone[3]}
"""
)

#: KEYS: the keys this node no longer holds; ARGV: prefix, node.
FREE = (
    _HELPERS
    + """
for _, k in ipairs(KEYS) do
  if mine(redis.call('GET', k)) then redis.call('DEL', k) end
  redis.call('SREM', P .. 'held:' .. node, k)
end
return 0
"""
)

#: KEYS: name key, shown key; ARGV: prefix, node, name, name key, transport.
#: Present now; the names are (re)taken, unless another node took them, then
#: that holder's value is returned.
ENTER = (
    _HELPERS
    + """
for i = 1, 2 do
  local v = redis.call('GET', KEYS[i])
  if other(v) then return v end
end
for i = 1, 2 do
  redis.call('SET', KEYS[i], node .. '\\t' .. ARGV[3])
  redis.call('SADD', P .. 'held:' .. node, KEYS[i])
end
redis.call('HSET', P .. 'present', ARGV[4], cjson.encode({node, ARGV[3], ARGV[5]}))
redis.call('SADD', P .. 'members:' .. node, ARGV[4])
return false
"""
)

#: KEYS: the name keys to free (those no session of the node holds any more);
#: ARGV: prefix, node, name key.
LEAVE = (
    _HELPERS
    + """
local v = redis.call('HGET', P .. 'present', ARGV[3])
if v and cjson.decode(v)[1] == node then redis.call('HDEL', P .. 'present', ARGV[3]) end
redis.call('SREM', P .. 'members:' .. node, ARGV[3])
for _, k in ipairs(KEYS) do
  if mine(redis.call('GET', k)) then redis.call('DEL', k) end
  redis.call('SREM', P .. 'held:' .. node, k)
end
return 0
"""
)

#: ARGV: prefix, node, message, window (ms), deadline. Publishes public messages
#: (those a node gathered in one reactor turn, as one message) on the room's
#: channel; returns how many are present in the whole room (-1: too late).
#:
#: Only if every node that beat within the window listens on the channel: just
#: after Redis came back (or a replica was promoted), a node whose subscription
#: is not made again yet would miss the message while its sender is told it was
#: said. Then nothing is published (-2), and the sender is told to try again.
PUBLIC = (
    _LATE
    + """
if late() then return -1 end
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local live = redis.call('ZCOUNT', ARGV[1] .. 'nodes', now - tonumber(ARGV[4]), '+inf')
local listening = redis.call('PUBSUB', 'NUMSUB', ARGV[1] .. 'room')[2]
if listening < live then return -2 end
redis.call('PUBLISH', ARGV[1] .. 'room', ARGV[3])
return redis.call('HLEN', ARGV[1] .. 'present')
"""
)

#: ARGV: prefix, node, name key, message, deadline. Nil if nobody is present
#: as that key; else C{{node, receivers}} after publishing the message on
#: that node's channel (0 receivers: the node is gone); -1: too late.
DIRECT = (
    _LATE
    + """
if late() then return -1 end
local v = redis.call('HGET', ARGV[1] .. 'present', ARGV[3])
if not v then return false end
local where = cjson.decode(v)[1]
return {where, redis.call('PUBLISH', ARGV[1] .. 'node:' .. where, ARGV[4])}
"""
)

#: ARGV: prefix. Everyone present, as C{[node, name, transport]} JSON.
USERS = """
return redis.call('HVALS', ARGV[1] .. 'present')
"""

#: Frees everything a dead node held and announces its users gone, once:
#: only the caller whose ZREM removed the node does it.
_BURY = """
local function bury(dead, reason)
  redis.call('ZREM', P .. 'nodes', dead)
  local gone = {}
  for _, k in ipairs(redis.call('SMEMBERS', P .. 'members:' .. dead)) do
    local v = redis.call('HGET', P .. 'present', k)
    if v then
      local e = cjson.decode(v)
      if e[1] == dead then
        redis.call('HDEL', P .. 'present', k)
        table.insert(gone, {e[2], e[3]})
      end
    end
  end
  for _, k in ipairs(redis.call('SMEMBERS', P .. 'held:' .. dead)) do
    local v = redis.call('GET', k)
    if v and string.sub(v, 1, #dead + 1) == dead .. '\\t' then redis.call('DEL', k) end
  end
  redis.call('DEL', P .. 'members:' .. dead, P .. 'held:' .. dead)
  if #gone > 0 then
    redis.call('PUBLISH', P .. 'room', cjson.encode({'gone', dead, reason, gone}))
  end
  return #gone
end
"""

#: ARGV: prefix, node, node timeout (ms). The node's heartbeat, and the
#: burial of every node silent for longer than the timeout. Returns
#: C{ok}, C{new} (Redis did not know the node: started, or Redis lost its
#: data) or C{reaped} (declared dead meanwhile: its users were announced gone).
#:
#: Redis keeps time by the wall clock: after Redis itself stood still (paused,
#: or its machine slept) for longer than half the timeout, every node's last
#: beat looks old at once. Then every node gets a fresh window instead of
#: being buried for Redis's silence.
BEAT = (
    _HELPERS
    + _BURY
    + """
local timeout = tonumber(ARGV[3])
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local last = tonumber(redis.call('GET', P .. 'clock') or now)
redis.call('SET', P .. 'clock', now)
if now - last > timeout / 2 then
  for _, n in ipairs(redis.call('ZRANGE', P .. 'nodes', 0, -1)) do
    redis.call('ZADD', P .. 'nodes', now, n)
  end
end
local state = 'ok'
if not redis.call('ZSCORE', P .. 'nodes', node) then
  state = 'new'
  if redis.call('DEL', P .. 'reaped:' .. node) == 1 then state = 'reaped' end
end
redis.call('ZADD', P .. 'nodes', now, node)
for _, dead in ipairs(redis.call('ZRANGEBYSCORE', P .. 'nodes', '-inf', now - timeout)) do
  bury(dead, 'TIMEOUT')
  redis.call('SET', P .. 'reaped:' .. dead, '1', 'EX', 3600)
end
return state
"""
)

#: ARGV: prefix, node. A node stopping cleanly: its users leave (SHUTDOWN).
DEPART = (
    _HELPERS
    + _BURY
    + """
return bury(node, 'SHUTDOWN')
"""
)

#: ARGV: prefix, node, JSON list of C{[name key, shown key, name, transport]}
#: (every user present on the node), 1 if they must be announced again.
#: After an outage: what Redis says of the node becomes what the node says.
#: Returns the JSON list of name keys that another node took meanwhile.
REJOIN = (
    _HELPERS
    + """
local users = cjson.decode(ARGV[3])
local here = {}
for _, u in ipairs(users) do here[u[1]] = true end
local gone = {}
for _, k in ipairs(redis.call('SMEMBERS', P .. 'members:' .. node)) do
  if not here[k] then
    local v = redis.call('HGET', P .. 'present', k)
    if v then
      local e = cjson.decode(v)
      if e[1] == node then
        redis.call('HDEL', P .. 'present', k)
        table.insert(gone, {e[2], e[3]})
      end
    end
    redis.call('SREM', P .. 'members:' .. node, k)
  end
end
local taken = {}
local back = {}
for _, u in ipairs(users) do
  local keys = {P .. 'name:' .. u[1], P .. 'shown:' .. u[2]}
  if other(redis.call('GET', keys[1])) or other(redis.call('GET', keys[2])) then
    table.insert(taken, u[1])
  else
    for i = 1, 2 do
      redis.call('SET', keys[i], node .. '\\t' .. u[3])
      redis.call('SADD', P .. 'held:' .. node, keys[i])
    end
    redis.call('HSET', P .. 'present', u[1], cjson.encode({node, u[3], u[4]}))
    redis.call('SADD', P .. 'members:' .. node, u[1])
    table.insert(back, {u[3], u[4]})
  end
end
if #gone > 0 then
  redis.call('PUBLISH', P .. 'room', cjson.encode({'gone', node, 'TIMEOUT', gone}))
end
if #back > 0 then
  -- back: announced to the users; here: only for the other nodes' presence mirrors
  local kind = 'here'
  if ARGV[4] == '1' then kind = 'back' end
  redis.call('PUBLISH', P .. 'room', cjson.encode({kind, node, back}))
end
return cjson.encode(taken)
"""
)
