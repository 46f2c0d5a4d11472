-- Schema v1 to v2: every account gets the confusable skeletons of its name
-- (UTS #39), computed in Python by the functions chatroom_skeleton()
-- (casefolded) and chatroom_shown_skeleton() (case kept, as shown).

ALTER TABLE accounts ADD COLUMN skeleton TEXT NOT NULL DEFAULT '';
ALTER TABLE accounts ADD COLUMN shown_skeleton TEXT NOT NULL DEFAULT '';
UPDATE accounts SET skeleton = chatroom_skeleton(name),
 shown_skeleton = chatroom_shown_skeleton(name);
CREATE INDEX accounts_skeleton ON accounts (skeleton);
CREATE INDEX accounts_shown_skeleton ON accounts (shown_skeleton);
