-- chatroom database, schema version 2: a fresh database is made from this.

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
