-- Schema v3 to v4 (protocol 1.2): roles on accounts, bans and mutes, the
-- slow-mode setting with a counter of moderation changes (running servers poll
-- it to notice what chatroom-admin changed), and the audit of every action.

ALTER TABLE accounts ADD COLUMN role TEXT NOT NULL DEFAULT 'user';

CREATE TABLE sanctions
(
 account_key TEXT NOT NULL, -- accounts.name_key of the banned or muted user
 name TEXT NOT NULL,        -- that user's name as shown
 kind TEXT NOT NULL,        -- 'ban' or 'mute'
 until_ms INTEGER,          -- end, milliseconds since the epoch; NULL: forever
 reason TEXT NOT NULL,
 actor TEXT NOT NULL,       -- who did it (a name, or 'chatroom-admin')
 at_ms INTEGER NOT NULL,    -- when, milliseconds since the epoch
 PRIMARY KEY (account_key, kind) -- a new ban or mute replaces the old one
);

CREATE TABLE moderation
(
 slow INTEGER NOT NULL,   -- slow mode: seconds between public messages, 0 = off
 changes INTEGER NOT NULL -- bumped by every write to roles, accounts and sanctions
);
INSERT INTO moderation (slow, changes) VALUES (0, 0);

CREATE TABLE audit
(
 id INTEGER PRIMARY KEY,  -- in the order done
 at_ms INTEGER NOT NULL,  -- milliseconds since the epoch, UTC
 node TEXT NOT NULL,      -- the server (or machine) that did it
 actor TEXT NOT NULL,
 action TEXT NOT NULL,    -- KICK, BAN, UNBAN, MUTE, UNMUTE, SLOW, ROLE, ...
 target TEXT NOT NULL,
 until_ms INTEGER,        -- the end it set, if any
 reason TEXT NOT NULL
);
