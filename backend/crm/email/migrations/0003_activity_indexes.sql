-- The activity panel's indexes (GET /api/email/activity): which emails it lists, which
-- mailboxes hold them and which investors they link to, and a search over subject, snippet
-- and sender.
--
-- The panel lists an email when it is matched (it has an investor link) and live (some
-- mailbox's sighting has deleted_at NULL). Asked of the base tables, that is two probes per
-- email: counting a page's `total` at 100,000 emails took 270 ms. So the answer is kept here,
-- by triggers on the tables it depends on, and a count is an index range:
--   email_activity            one row per listed email: when, and whether it is outbound
--                             (its from is one of our mailboxes: direction is the email's);
--   email_activity_mailboxes  one row per mailbox holding a listed email, repeating the email's
--                             row so that the mailbox filter reads this table alone;
--   email_activity_investors  one row per grid investor a listed email links to (the investor
--                             filter, the picker's counts);
--   email_activity_fts        subject, snippet and sender of listed emails (rowid = seq).
-- Only these triggers write them; store.py's writes are unchanged. Links and sightings are
-- inserted and deleted (replace_links, add_sighting, wipe), and a sighting's deleted_at set and
-- cleared, never re-pointed at another email: the triggers follow exactly those changes.
-- What was captured before this migration is filled in at the end.

CREATE TABLE email_activity (
    email_id TEXT PRIMARY KEY,
    seq      INTEGER NOT NULL UNIQUE,               -- the search row's rowid
    sent_at  TEXT NOT NULL,
    outbound INTEGER NOT NULL CHECK (outbound IN (0, 1))
) WITHOUT ROWID;
CREATE INDEX email_activity_sent ON email_activity(sent_at);            -- (sent_at, email_id): newest first
CREATE INDEX email_activity_direction ON email_activity(outbound, sent_at);

CREATE TABLE email_activity_mailboxes (
    account_id TEXT NOT NULL,
    sent_at    TEXT NOT NULL,
    email_id   TEXT NOT NULL,
    outbound   INTEGER NOT NULL,
    seq        INTEGER NOT NULL,
    PRIMARY KEY (account_id, sent_at, email_id)
) WITHOUT ROWID;
CREATE INDEX email_activity_mailboxes_email ON email_activity_mailboxes(email_id, account_id);

CREATE TABLE email_activity_investors (
    investor_id TEXT NOT NULL,
    email_id    TEXT NOT NULL,
    PRIMARY KEY (investor_id, email_id)
) WITHOUT ROWID;
CREATE INDEX email_activity_investors_email ON email_activity_investors(email_id, investor_id);

CREATE VIRTUAL TABLE email_activity_fts USING fts5(subject, snippet, sender, tokenize = 'unicode61 remove_diacritics 2');

-- The triggers' probe: an email's live sightings (the base table's index would read each row).
CREATE INDEX email_account_messages_live ON email_account_messages(email_id, account_id) WHERE deleted_at IS NULL;

-- A listed email: its mailboxes, investors and search row come, change and go with it.
CREATE TRIGGER email_activity_added AFTER INSERT ON email_activity BEGIN
    INSERT OR IGNORE INTO email_activity_mailboxes (account_id, sent_at, email_id, outbound, seq)
    SELECT m.account_id, new.sent_at, new.email_id, new.outbound, new.seq FROM email_account_messages m
    WHERE m.email_id = new.email_id AND m.deleted_at IS NULL;
    INSERT OR IGNORE INTO email_activity_investors (investor_id, email_id)
    SELECT l.fundraising_investor_id, new.email_id FROM email_investor_links l
    WHERE l.email_id = new.email_id AND l.fundraising_investor_id IS NOT NULL;
    INSERT INTO email_activity_fts (rowid, subject, snippet, sender)
    SELECT new.seq, e.subject, coalesce(e.snippet, ''), coalesce(e.from_name, '') || ' ' || coalesce(e.from_email, '')
    FROM emails e WHERE e.id = new.email_id;
END;
CREATE TRIGGER email_activity_changed AFTER UPDATE OF sent_at, outbound ON email_activity BEGIN
    UPDATE email_activity_mailboxes SET sent_at = new.sent_at, outbound = new.outbound WHERE email_id = new.email_id;
END;
CREATE TRIGGER email_activity_removed AFTER DELETE ON email_activity BEGIN
    DELETE FROM email_activity_mailboxes WHERE email_id = old.email_id;
    DELETE FROM email_activity_investors WHERE email_id = old.email_id;
    DELETE FROM email_activity_fts WHERE rowid = old.seq;
END;

-- An email joins when it gains its first link while live, or its first live sighting while linked.
CREATE TRIGGER email_activity_link_added AFTER INSERT ON email_investor_links BEGIN
    INSERT OR IGNORE INTO email_activity_investors (investor_id, email_id)
    SELECT new.fundraising_investor_id, x.email_id FROM email_activity x
    WHERE x.email_id = new.email_id AND new.fundraising_investor_id IS NOT NULL;
    INSERT INTO email_activity (email_id, seq, sent_at, outbound)
    SELECT e.id, coalesce((SELECT max(seq) FROM email_activity), 0) + 1, e.sent_at,
           EXISTS (SELECT 1 FROM email_accounts a WHERE a.email = e.from_email)
    FROM emails e
    WHERE e.id = new.email_id
      AND NOT EXISTS (SELECT 1 FROM email_activity x WHERE x.email_id = e.id)
      AND EXISTS (SELECT 1 FROM email_account_messages m WHERE m.email_id = e.id AND m.deleted_at IS NULL);
END;
-- (An email links to one investor through several addresses: it leaves the investor with the last.)
CREATE TRIGGER email_activity_link_removed AFTER DELETE ON email_investor_links BEGIN
    DELETE FROM email_activity_investors WHERE investor_id = old.fundraising_investor_id AND email_id = old.email_id
      AND NOT EXISTS (SELECT 1 FROM email_investor_links l
                      WHERE l.email_id = old.email_id AND l.fundraising_investor_id = old.fundraising_investor_id);
    DELETE FROM email_activity WHERE email_id = old.email_id
      AND NOT EXISTS (SELECT 1 FROM email_investor_links l WHERE l.email_id = old.email_id);
END;

CREATE TRIGGER email_activity_sighting_added AFTER INSERT ON email_account_messages WHEN new.deleted_at IS NULL BEGIN
    INSERT OR IGNORE INTO email_activity_mailboxes (account_id, sent_at, email_id, outbound, seq)
    SELECT new.account_id, x.sent_at, x.email_id, x.outbound, x.seq FROM email_activity x WHERE x.email_id = new.email_id;
    INSERT INTO email_activity (email_id, seq, sent_at, outbound)
    SELECT e.id, coalesce((SELECT max(seq) FROM email_activity), 0) + 1, e.sent_at,
           EXISTS (SELECT 1 FROM email_accounts a WHERE a.email = e.from_email)
    FROM emails e
    WHERE e.id = new.email_id
      AND NOT EXISTS (SELECT 1 FROM email_activity x WHERE x.email_id = e.id)
      AND EXISTS (SELECT 1 FROM email_investor_links l WHERE l.email_id = e.id);
END;
-- A sighting deleted in Gmail and seen again (store.add_sighting's upsert clears deleted_at).
CREATE TRIGGER email_activity_sighting_restored AFTER UPDATE OF deleted_at ON email_account_messages
WHEN old.deleted_at IS NOT NULL AND new.deleted_at IS NULL BEGIN
    INSERT OR IGNORE INTO email_activity_mailboxes (account_id, sent_at, email_id, outbound, seq)
    SELECT new.account_id, x.sent_at, x.email_id, x.outbound, x.seq FROM email_activity x WHERE x.email_id = new.email_id;
    INSERT INTO email_activity (email_id, seq, sent_at, outbound)
    SELECT e.id, coalesce((SELECT max(seq) FROM email_activity), 0) + 1, e.sent_at,
           EXISTS (SELECT 1 FROM email_accounts a WHERE a.email = e.from_email)
    FROM emails e
    WHERE e.id = new.email_id
      AND NOT EXISTS (SELECT 1 FROM email_activity x WHERE x.email_id = e.id)
      AND EXISTS (SELECT 1 FROM email_investor_links l WHERE l.email_id = e.id);
END;
-- The mailbox lets go of it (one mailbox may hold an email under two Gmail ids); the panel does
-- once no mailbox holds it.
CREATE TRIGGER email_activity_sighting_deleted AFTER UPDATE OF deleted_at ON email_account_messages
WHEN old.deleted_at IS NULL AND new.deleted_at IS NOT NULL BEGIN
    DELETE FROM email_activity_mailboxes WHERE account_id = new.account_id AND email_id = new.email_id
      AND NOT EXISTS (SELECT 1 FROM email_account_messages m
                      WHERE m.email_id = new.email_id AND m.account_id = new.account_id AND m.deleted_at IS NULL);
    DELETE FROM email_activity WHERE email_id = new.email_id
      AND NOT EXISTS (SELECT 1 FROM email_account_messages m WHERE m.email_id = new.email_id AND m.deleted_at IS NULL);
END;
CREATE TRIGGER email_activity_sighting_removed AFTER DELETE ON email_account_messages WHEN old.deleted_at IS NULL BEGIN
    DELETE FROM email_activity_mailboxes WHERE account_id = old.account_id AND email_id = old.email_id
      AND NOT EXISTS (SELECT 1 FROM email_account_messages m
                      WHERE m.email_id = old.email_id AND m.account_id = old.account_id AND m.deleted_at IS NULL);
    DELETE FROM email_activity WHERE email_id = old.email_id
      AND NOT EXISTS (SELECT 1 FROM email_account_messages m WHERE m.email_id = old.email_id AND m.deleted_at IS NULL);
END;

-- What the panel shows or searches of the email itself.
CREATE TRIGGER email_activity_email_changed AFTER UPDATE OF subject, snippet, from_name, from_email, sent_at ON emails
WHEN EXISTS (SELECT 1 FROM email_activity x WHERE x.email_id = new.id) BEGIN
    UPDATE email_activity SET sent_at = new.sent_at,
        outbound = EXISTS (SELECT 1 FROM email_accounts a WHERE a.email = new.from_email)
    WHERE email_id = new.id;
    UPDATE email_activity_fts SET subject = new.subject, snippet = coalesce(new.snippet, ''),
        sender = coalesce(new.from_name, '') || ' ' || coalesce(new.from_email, '')
    WHERE rowid = (SELECT seq FROM email_activity WHERE email_id = new.id);
END;
CREATE TRIGGER email_activity_email_removed AFTER DELETE ON emails BEGIN
    DELETE FROM email_activity WHERE email_id = old.id;
END;

-- Direction follows the mailboxes: mail from an address is outbound once its mailbox is enrolled.
CREATE TRIGGER email_activity_account_added AFTER INSERT ON email_accounts BEGIN
    UPDATE email_activity SET outbound = 1 WHERE email_id IN (SELECT id FROM emails WHERE from_email = new.email);
END;
CREATE TRIGGER email_activity_account_changed AFTER UPDATE OF email ON email_accounts BEGIN
    UPDATE email_activity SET outbound = EXISTS (SELECT 1 FROM email_accounts a WHERE a.email = old.email)
    WHERE email_id IN (SELECT id FROM emails WHERE from_email = old.email);
    UPDATE email_activity SET outbound = 1 WHERE email_id IN (SELECT id FROM emails WHERE from_email = new.email);
END;
CREATE TRIGGER email_activity_account_removed AFTER DELETE ON email_accounts BEGIN
    UPDATE email_activity SET outbound = EXISTS (SELECT 1 FROM email_accounts a WHERE a.email = old.email)
    WHERE email_id IN (SELECT id FROM emails WHERE from_email = old.email);
END;

-- What was captured before this migration (email_activity_added fills in the rest).
INSERT INTO email_activity (email_id, seq, sent_at, outbound)
SELECT e.id, row_number() OVER (ORDER BY e.sent_at, e.id), e.sent_at,
       EXISTS (SELECT 1 FROM email_accounts a WHERE a.email = e.from_email)
FROM emails e
WHERE EXISTS (SELECT 1 FROM email_investor_links l WHERE l.email_id = e.id)
  AND EXISTS (SELECT 1 FROM email_account_messages m WHERE m.email_id = e.id AND m.deleted_at IS NULL);
