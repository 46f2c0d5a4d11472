-- chatroom database, schema version 4: a fresh database is made from this.

CREATE TABLE version
(
 version INTEGER NOT NULL -- the schema version this file holds
);

CREATE TABLE accounts
(
 name_key TEXT PRIMARY KEY,   -- chatroom.names.caseless(): caseless identity
 name TEXT NOT NULL,          -- the spelling the account registered with
 password_hash TEXT NOT NULL, -- argon2id PHC string, salt included
 created INTEGER NOT NULL,    -- seconds since the epoch
 skeleton TEXT NOT NULL,      -- chatroom.names.key(): look-alike names share it
 shown_skeleton TEXT NOT NULL, -- chatroom.names.shownKey(): so do names that look
                               -- alike only as shown, case kept (aIice, alice)
 role TEXT NOT NULL DEFAULT 'user' -- user, moderator or admin
);

-- Not UNIQUE: accounts registered before v2 may share a skeleton and both
-- keep working; new registrations are refused when either of theirs is taken.
CREATE INDEX accounts_skeleton ON accounts (skeleton);
CREATE INDEX accounts_shown_skeleton ON accounts (shown_skeleton);

CREATE TABLE history
(
 id INTEGER PRIMARY KEY,  -- in the order said
 at INTEGER NOT NULL,     -- milliseconds since the epoch, UTC
 sender TEXT NOT NULL,    -- as shown
 transport TEXT NOT NULL, -- the sender's transport tag (TCP, UDP, ...)
 text TEXT NOT NULL
);

CREATE TABLE inbox
(
 id INTEGER PRIMARY KEY,      -- in the order stored
 recipient_key TEXT NOT NULL, -- accounts.name_key of the recipient
 at INTEGER NOT NULL,         -- milliseconds since the epoch, UTC
 sender TEXT NOT NULL,
 transport TEXT NOT NULL,
 text TEXT NOT NULL
);

CREATE INDEX inbox_recipient ON inbox (recipient_key, id);
CREATE INDEX inbox_at ON inbox (at);

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
