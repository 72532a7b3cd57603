-- A mention is read once its person has seen it (the header's unread count): read_at, NULL while unread.
ALTER TABLE fundraising_mentions ADD COLUMN read_at TEXT;
CREATE INDEX fundraising_mentions_unread ON fundraising_mentions(user_id) WHERE read_at IS NULL;
