-- What the team does with captured mail: proposed notes (propose → approve), their
-- Matrix review cards, and in-thread Gmail drafts made through the CRM.

-- A draft grid note for one investor from one captured email (or a burst on one thread).
-- Nothing is written to the investor's record until a human approves.
CREATE TABLE email_proposals (
    id                      TEXT PRIMARY KEY,
    email_id                TEXT NOT NULL REFERENCES emails(id),      -- the newest email it stands for
    thread_id               TEXT NOT NULL REFERENCES email_threads(id),
    fundraising_investor_id TEXT NOT NULL,
    status                  TEXT NOT NULL DEFAULT 'proposed' CHECK (status IN ('proposed', 'approved', 'rejected')),
    draft                   TEXT NOT NULL,
    drafted_by              TEXT NOT NULL CHECK (drafted_by IN ('model', 'template')),
    draft_note              TEXT,                                     -- why the template was used, in words
    email_count             INTEGER NOT NULL DEFAULT 1,               -- emails of the burst it stands for
    final_text              TEXT,
    decided_by              TEXT REFERENCES users(id),
    decided_at              TEXT,
    decided_via             TEXT CHECK (decided_via IN ('web', 'matrix')),
    created_at              TEXT NOT NULL,
    updated_at              TEXT NOT NULL
);
CREATE INDEX email_proposals_status ON email_proposals(status, created_at);
-- One open proposal per thread and investor: a burst of replies updates it.
CREATE UNIQUE INDEX email_proposals_open ON email_proposals(thread_id, fundraising_investor_id) WHERE status = 'proposed';

-- The intake bot's review card for a proposal in the Matrix review room. The CRM never calls
-- Matrix: the bot polls, posts, relays decisions and says when it has closed a card.
CREATE TABLE email_proposal_matrix (
    proposal_id TEXT PRIMARY KEY REFERENCES email_proposals(id),
    room_id     TEXT NOT NULL,
    event_id    TEXT NOT NULL,
    posted_at   TEXT NOT NULL,
    closed_at   TEXT
);

-- Gmail drafts the CRM made in a user's own mailbox (it never sends them).
CREATE TABLE email_drafts (
    id               TEXT PRIMARY KEY,
    user_id          TEXT NOT NULL REFERENCES users(id),
    account_id       TEXT NOT NULL REFERENCES email_accounts(id),
    email_id         TEXT NOT NULL REFERENCES emails(id),             -- the message replied to
    gmail_draft_id   TEXT NOT NULL,
    gmail_message_id TEXT,
    gmail_thread_id  TEXT NOT NULL,
    subject          TEXT NOT NULL,
    to_addrs         TEXT NOT NULL DEFAULT '[]',
    cc_addrs         TEXT NOT NULL DEFAULT '[]',
    created_at       TEXT NOT NULL
);
CREATE INDEX email_drafts_user ON email_drafts(user_id, created_at);
