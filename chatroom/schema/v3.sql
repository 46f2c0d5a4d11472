-- chatroom database, schema version 3: a fresh database is made from this.

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
 shown_skeleton TEXT NOT NULL -- chatroom.names.shownKey(): so do names that look
                              -- alike only as shown, case kept (aIice, alice)
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
