-- Notes proposed by an agent (the CRM MCP server's propose_note, POST /api/email/proposals) join the
-- same propose → approve queue as notes from captured email: such a proposal has no email and no
-- thread (source 'agent'), names the bot user who proposed it (proposed_by) and its draft is the
-- agent's (drafted_by 'agent'). SQLite cannot relax NOT NULL in place, so email_proposals is
-- rebuilt; email_proposal_matrix, whose foreign key names it, is rebuilt with it (a DROP of the
-- parent with its children still there would leave a deferred foreign-key violation that no
-- rename clears). Both copies keep every id, so the Matrix cards stay on their proposals.
PRAGMA defer_foreign_keys = ON;

CREATE TABLE email_proposals_new (
    id                      TEXT PRIMARY KEY,
    email_id                TEXT REFERENCES emails(id),               -- the newest email it stands for; NULL for an agent's
    thread_id               TEXT REFERENCES email_threads(id),
    fundraising_investor_id TEXT NOT NULL,
    source                  TEXT NOT NULL DEFAULT 'email' CHECK (source IN ('email', 'agent')),
    proposed_by             TEXT REFERENCES users(id),                -- the bot an agent proposed through
    status                  TEXT NOT NULL DEFAULT 'proposed' CHECK (status IN ('proposed', 'approved', 'rejected')),
    draft                   TEXT NOT NULL,
    drafted_by              TEXT NOT NULL CHECK (drafted_by IN ('model', 'template', 'agent')),
    draft_note              TEXT,
    email_count             INTEGER NOT NULL DEFAULT 1,
    final_text              TEXT,
    decided_by              TEXT REFERENCES users(id),
    decided_at              TEXT,
    decided_via             TEXT CHECK (decided_via IN ('web', 'matrix')),
    created_at              TEXT NOT NULL,
    updated_at              TEXT NOT NULL,
    decided_matrix_user     TEXT,
    CHECK (source = 'agent' OR (email_id IS NOT NULL AND thread_id IS NOT NULL))
);
INSERT INTO email_proposals_new (id, email_id, thread_id, fundraising_investor_id, source, proposed_by, status, draft,
                                 drafted_by, draft_note, email_count, final_text, decided_by, decided_at, decided_via,
                                 created_at, updated_at, decided_matrix_user)
    SELECT id, email_id, thread_id, fundraising_investor_id, 'email', NULL, status, draft, drafted_by, draft_note,
           email_count, final_text, decided_by, decided_at, decided_via, created_at, updated_at, decided_matrix_user
    FROM email_proposals;

CREATE TABLE email_proposal_matrix_new (
    proposal_id TEXT PRIMARY KEY REFERENCES email_proposals_new(id),
    room_id     TEXT NOT NULL,
    event_id    TEXT NOT NULL,
    posted_at   TEXT NOT NULL,
    closed_at   TEXT
);
INSERT INTO email_proposal_matrix_new (proposal_id, room_id, event_id, posted_at, closed_at)
    SELECT proposal_id, room_id, event_id, posted_at, closed_at FROM email_proposal_matrix;

DROP TABLE email_proposal_matrix;
DROP TABLE email_proposals;
-- The rename rewrites the cards' foreign key to the new name as well.
ALTER TABLE email_proposals_new RENAME TO email_proposals;
ALTER TABLE email_proposal_matrix_new RENAME TO email_proposal_matrix;

CREATE INDEX email_proposals_status ON email_proposals(status, created_at);
-- One open proposal per thread and investor (an agent's, with no thread, is never merged into another).
CREATE UNIQUE INDEX email_proposals_open ON email_proposals(thread_id, fundraising_investor_id) WHERE status = 'proposed';
CREATE INDEX email_proposals_investor ON email_proposals(fundraising_investor_id, status);
