-- Back to proposals from captured email only: agents' proposals (and their Matrix cards) cannot be
-- kept without an email, so they go; every other proposal and card is copied back as it was.
PRAGMA defer_foreign_keys = ON;

CREATE TABLE email_proposals_old (
    id                      TEXT PRIMARY KEY,
    email_id                TEXT NOT NULL REFERENCES emails(id),
    thread_id               TEXT NOT NULL REFERENCES email_threads(id),
    fundraising_investor_id TEXT NOT NULL,
    status                  TEXT NOT NULL DEFAULT 'proposed' CHECK (status IN ('proposed', 'approved', 'rejected')),
    draft                   TEXT NOT NULL,
    drafted_by              TEXT NOT NULL CHECK (drafted_by IN ('model', 'template')),
    draft_note              TEXT,
    email_count             INTEGER NOT NULL DEFAULT 1,
    final_text              TEXT,
    decided_by              TEXT REFERENCES users(id),
    decided_at              TEXT,
    decided_via             TEXT CHECK (decided_via IN ('web', 'matrix')),
    created_at              TEXT NOT NULL,
    updated_at              TEXT NOT NULL,
    decided_matrix_user     TEXT
);
INSERT INTO email_proposals_old (id, email_id, thread_id, fundraising_investor_id, status, draft, drafted_by, draft_note,
                                 email_count, final_text, decided_by, decided_at, decided_via, created_at, updated_at,
                                 decided_matrix_user)
    SELECT id, email_id, thread_id, fundraising_investor_id, status, draft, drafted_by, draft_note, email_count,
           final_text, decided_by, decided_at, decided_via, created_at, updated_at, decided_matrix_user
    FROM email_proposals WHERE source = 'email';

CREATE TABLE email_proposal_matrix_old (
    proposal_id TEXT PRIMARY KEY REFERENCES email_proposals_old(id),
    room_id     TEXT NOT NULL,
    event_id    TEXT NOT NULL,
    posted_at   TEXT NOT NULL,
    closed_at   TEXT
);
INSERT INTO email_proposal_matrix_old (proposal_id, room_id, event_id, posted_at, closed_at)
    SELECT m.proposal_id, m.room_id, m.event_id, m.posted_at, m.closed_at
    FROM email_proposal_matrix m JOIN email_proposals p ON p.id = m.proposal_id WHERE p.source = 'email';

DROP TABLE email_proposal_matrix;
DROP TABLE email_proposals;
ALTER TABLE email_proposals_old RENAME TO email_proposals;
ALTER TABLE email_proposal_matrix_old RENAME TO email_proposal_matrix;

CREATE INDEX email_proposals_status ON email_proposals(status, created_at);
CREATE UNIQUE INDEX email_proposals_open ON email_proposals(thread_id, fundraising_investor_id) WHERE status = 'proposed';
