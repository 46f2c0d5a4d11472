-- Schema v2 to v3 (protocol 1.1): the room's last public messages, and the
-- direct messages kept for registered users who were offline.

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
