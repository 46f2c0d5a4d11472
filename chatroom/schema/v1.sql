-- chatroom database, schema version 1: a fresh database is made from this.

CREATE TABLE version
(
 version INTEGER NOT NULL -- the schema version this file holds
);

CREATE TABLE accounts
(
 name_key TEXT PRIMARY KEY,   -- chatroom.names.key(): caseless identity
 name TEXT NOT NULL,          -- the spelling the account registered with
 password_hash TEXT NOT NULL, -- argon2id PHC string, salt included
 created INTEGER NOT NULL     -- seconds since the epoch
);
