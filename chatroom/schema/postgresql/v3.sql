-- chatroom database in PostgreSQL, schema version 3 (the same tables as SQLite's v3, so a
-- version means one thing on both engines): a fresh database is made from this. The only
-- differences are PostgreSQL's: BIGINT for 64-bit numbers, identity columns for ids.

CREATE TABLE version
(
 version INTEGER NOT NULL -- the schema version this database holds
);

CREATE TABLE accounts
(
 name_key TEXT PRIMARY KEY,   -- chatroom.names.caseless(): caseless identity
 name TEXT NOT NULL,          -- the spelling the account registered with
 password_hash TEXT NOT NULL, -- argon2id PHC string, salt included
 created BIGINT NOT NULL,     -- seconds since the epoch
 skeleton TEXT NOT NULL,      -- chatroom.names.key(): look-alike names share it
 shown_skeleton TEXT NOT NULL -- chatroom.names.shownKey(): so do names that look
                              -- alike only as shown, case kept (aIice, alice)
);

CREATE INDEX accounts_skeleton ON accounts (skeleton);
CREATE INDEX accounts_shown_skeleton ON accounts (shown_skeleton);

CREATE TABLE history
(
 id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY, -- in the order said
 at BIGINT NOT NULL,      -- milliseconds since the epoch, UTC
 sender TEXT NOT NULL,    -- as shown
 transport TEXT NOT NULL, -- the sender's transport tag (TCP, UDP, ...)
 text TEXT NOT NULL
);

CREATE TABLE inbox
(
 id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY, -- in the order stored
 recipient_key TEXT NOT NULL, -- accounts.name_key of the recipient
 at BIGINT NOT NULL,          -- milliseconds since the epoch, UTC
 sender TEXT NOT NULL,
 transport TEXT NOT NULL,
 text TEXT NOT NULL
);

CREATE INDEX inbox_recipient ON inbox (recipient_key, id);
CREATE INDEX inbox_at ON inbox (at);
