DROP INDEX fundraising_mentions_unread;
ALTER TABLE fundraising_mentions DROP COLUMN read_at;
