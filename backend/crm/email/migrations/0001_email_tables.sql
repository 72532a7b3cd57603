-- Gmail capture: mailboxes, captured email, where each was seen, threads,
-- attachments, links to investors, sync runs, the blocklist, OAuth states.
-- Created whether capture is on or not, so the schema never depends on the
-- configuration (a backup restores the same tables everywhere).

-- One per team mailbox captured.
CREATE TABLE email_accounts (
    id                   TEXT PRIMARY KEY,
    user_id              TEXT NOT NULL REFERENCES users(id),
    email                TEXT NOT NULL UNIQUE COLLATE NOCASE,
    auth_method          TEXT NOT NULL CHECK (auth_method IN ('dwd', 'oauth')),
    refresh_token_sealed TEXT,                      -- OAuth only: AES-256-GCM (CRM_GMAIL_SECRET_KEY)
    status               TEXT NOT NULL DEFAULT 'active'
                         CHECK (status IN ('active', 'needs_attention', 'paused')),
    backfill_cursor      TEXT,                      -- the list pageToken the backfill resumes from
    backfill_started_at  TEXT,
    backfill_done_at     TEXT,
    history_id           TEXT,                      -- incremental sync resumes from here
    last_run_at          TEXT,
    last_success_at      TEXT,
    last_error           TEXT,                      -- in plain words, never a token
    last_error_at        TEXT,
    failures             INTEGER NOT NULL DEFAULT 0, -- temporary failures in a row (back-off)
    next_attempt_at      TEXT,
    created_at           TEXT NOT NULL,
    created_by           TEXT REFERENCES users(id),
    updated_at           TEXT NOT NULL
);

-- A conversation across mailboxes: two partners and an LP on one thread are one thread.
CREATE TABLE email_threads (
    id            TEXT PRIMARY KEY,
    subject       TEXT NOT NULL DEFAULT '',
    first_at      TEXT NOT NULL,
    last_at       TEXT NOT NULL,
    message_count INTEGER NOT NULL DEFAULT 0,
    created_at    TEXT NOT NULL,
    updated_at    TEXT NOT NULL
);
CREATE INDEX email_threads_last ON email_threads(last_at);

-- One per RFC Message-ID, however many mailboxes saw it. Bodies only for matched mail.
CREATE TABLE emails (
    id             TEXT PRIMARY KEY,
    message_id     TEXT NOT NULL UNIQUE,
    thread_id      TEXT NOT NULL REFERENCES email_threads(id),
    in_reply_to    TEXT,
    refs           TEXT NOT NULL DEFAULT '[]',      -- JSON: the References ids, in order
    subject        TEXT NOT NULL DEFAULT '',
    from_name      TEXT,
    from_email     TEXT COLLATE NOCASE,
    to_addrs       TEXT NOT NULL DEFAULT '[]',      -- JSON [{name, email}]
    cc_addrs       TEXT NOT NULL DEFAULT '[]',
    bcc_addrs      TEXT NOT NULL DEFAULT '[]',
    sent_at        TEXT NOT NULL,
    snippet        TEXT,
    body_text      TEXT,
    body_html      TEXT,                            -- sanitised on the way in
    has_body       INTEGER NOT NULL DEFAULT 0 CHECK (has_body IN (0, 1)),
    is_matched     INTEGER NOT NULL DEFAULT 0 CHECK (is_matched IN (0, 1)),
    match_status   TEXT NOT NULL DEFAULT 'unmatched'
                   CHECK (match_status IN ('unmatched', 'matched', 'excluded')),
    excluded_reason TEXT,                           -- why a body was removed later (blocklist, private label)
    size_estimate  INTEGER,
    created_at     TEXT NOT NULL,
    updated_at     TEXT NOT NULL
);
CREATE INDEX emails_thread ON emails(thread_id, sent_at);
CREATE INDEX emails_sent ON emails(sent_at);
CREATE INDEX emails_from ON emails(from_email);
CREATE INDEX emails_matched ON emails(is_matched, sent_at);
CREATE INDEX emails_in_reply_to ON emails(in_reply_to);

-- Where each email was seen: per mailbox, with its labels. Soft delete lives here.
CREATE TABLE email_account_messages (
    account_id      TEXT NOT NULL REFERENCES email_accounts(id),
    gmail_id        TEXT NOT NULL,
    email_id        TEXT NOT NULL REFERENCES emails(id),
    gmail_thread_id TEXT NOT NULL,
    label_ids       TEXT NOT NULL DEFAULT '[]',
    is_sent         INTEGER NOT NULL DEFAULT 0 CHECK (is_sent IN (0, 1)),
    seen_at         TEXT NOT NULL,
    deleted_at      TEXT,
    PRIMARY KEY (account_id, gmail_id)
);
CREATE INDEX email_account_messages_email ON email_account_messages(email_id);
CREATE INDEX email_account_messages_thread ON email_account_messages(account_id, gmail_thread_id);

-- A message seen but not captured (bulk, internal, role address, blocklisted, private,
-- unparseable): kept so a later sync skips it cheaply and a run can say why.
CREATE TABLE email_skipped (
    account_id      TEXT NOT NULL REFERENCES email_accounts(id),
    gmail_id        TEXT NOT NULL,
    gmail_thread_id TEXT,
    reason          TEXT NOT NULL,
    detail          TEXT,                           -- a parse error, in words; never body text
    at              TEXT NOT NULL,
    PRIMARY KEY (account_id, gmail_id)
);

CREATE TABLE email_attachments (
    id                  TEXT PRIMARY KEY,
    email_id            TEXT NOT NULL REFERENCES emails(id),
    part_id             TEXT NOT NULL,
    filename            TEXT NOT NULL DEFAULT '',
    mime_type           TEXT,
    size                INTEGER,
    content_id          TEXT,
    inline              INTEGER NOT NULL DEFAULT 0 CHECK (inline IN (0, 1)),
    account_id          TEXT REFERENCES email_accounts(id),   -- the mailbox to fetch it through
    gmail_message_id    TEXT,
    gmail_attachment_id TEXT,
    status              TEXT NOT NULL DEFAULT 'pending'
                        CHECK (status IN ('pending', 'stored', 'too_large', 'failed', 'removed')),
    sha256              TEXT,
    storage_path        TEXT,                       -- relative to CRM_DATA_DIR/email_attachments
    attempts            INTEGER NOT NULL DEFAULT 0,
    error               TEXT,
    fetched_at          TEXT,
    UNIQUE (email_id, part_id)
);
CREATE INDEX email_attachments_pending ON email_attachments(status);
CREATE INDEX email_attachments_sha ON email_attachments(sha256);

-- Which known people an email touches. Soft references: the grid and the classic CRM
-- keep their own records; a link names any of them.
CREATE TABLE email_investor_links (
    id                      TEXT PRIMARY KEY,
    email_id                TEXT NOT NULL REFERENCES emails(id),
    fundraising_investor_id TEXT,
    fundraising_contact_id  TEXT,
    contact_id              TEXT,
    organization_id         TEXT,
    match_kind              TEXT NOT NULL CHECK (match_kind IN ('exact_email', 'domain_match')),
    confidence              REAL NOT NULL,
    address                 TEXT NOT NULL COLLATE NOCASE,  -- the participant that matched
    created_at              TEXT NOT NULL
);
CREATE UNIQUE INDEX email_investor_links_unique ON email_investor_links(
    email_id, address, match_kind, IFNULL(fundraising_investor_id, ''), IFNULL(fundraising_contact_id, ''),
    IFNULL(contact_id, ''), IFNULL(organization_id, ''));
CREATE INDEX email_investor_links_investor ON email_investor_links(fundraising_investor_id);
CREATE INDEX email_investor_links_contact ON email_investor_links(contact_id);
CREATE INDEX email_investor_links_organization ON email_investor_links(organization_id);

-- Every sync run, so "synced but nothing imported" always explains itself.
CREATE TABLE email_sync_runs (
    id          TEXT PRIMARY KEY,
    account_id  TEXT NOT NULL REFERENCES email_accounts(id),
    kind        TEXT NOT NULL CHECK (kind IN ('backfill', 'incremental', 'rescan')),
    trigger     TEXT NOT NULL CHECK (trigger IN ('schedule', 'manual')),
    status      TEXT NOT NULL CHECK (status IN ('running', 'ok', 'error')),
    started_at  TEXT NOT NULL,
    finished_at TEXT,
    duration_ms INTEGER,
    listed      INTEGER NOT NULL DEFAULT 0,
    fetched     INTEGER NOT NULL DEFAULT 0,         -- bodies fetched (format=full)
    stored      INTEGER NOT NULL DEFAULT 0,
    matched     INTEGER NOT NULL DEFAULT 0,
    deleted     INTEGER NOT NULL DEFAULT 0,
    skipped     TEXT NOT NULL DEFAULT '{}',         -- JSON {reason: count}
    units       INTEGER NOT NULL DEFAULT 0,         -- Gmail quota units spent
    error       TEXT
);
CREATE INDEX email_sync_runs_account ON email_sync_runs(account_id, started_at);

-- Addresses and @domains never captured. Admins' entries (owner NULL) apply to every
-- mailbox; a member's apply to their own mailbox and only they see them.
CREATE TABLE email_blocklist (
    id         TEXT PRIMARY KEY,
    pattern    TEXT NOT NULL COLLATE NOCASE,        -- "someone@example.com" or "@example.com"
    owner_id   TEXT REFERENCES users(id),
    note       TEXT,
    created_at TEXT NOT NULL,
    created_by TEXT REFERENCES users(id)
);
CREATE UNIQUE INDEX email_blocklist_unique ON email_blocklist(pattern, IFNULL(owner_id, ''));

-- OAuth consent: single-use state tokens (only their SHA-256 is kept).
CREATE TABLE email_oauth_states (
    state_hash TEXT PRIMARY KEY,
    user_id    TEXT NOT NULL REFERENCES users(id),
    created_at TEXT NOT NULL,
    expires_at TEXT NOT NULL,
    used_at    TEXT
);
