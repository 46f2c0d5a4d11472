-- Schema v1 to v2: every account gets the confusable skeleton of its name
-- (UTS #39), computed in Python by the function chatroom_skeleton().

ALTER TABLE accounts ADD COLUMN skeleton TEXT NOT NULL DEFAULT '';
UPDATE accounts SET skeleton = chatroom_skeleton(name);
CREATE INDEX accounts_skeleton ON accounts (skeleton);
