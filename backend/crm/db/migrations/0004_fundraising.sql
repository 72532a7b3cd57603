-- The fundraising grid: investors are rows, typed columns, commitments per fund.
--
-- One home per fact: well-known investor fields are columns of
-- fundraising_investors; custom field values live in its `fields` JSON;
-- each fund cell is a row of fundraising_commitments; each grid contact a
-- row of fundraising_contacts. Formula results are cached in `computed`,
-- recomputed in the same transaction as the cells they depend on.
-- fundraising_ops is the append-only log: history, the change feed, and the
-- per-cell conflict check all read it.

CREATE TABLE fundraising_state (
    id          INTEGER PRIMARY KEY CHECK (id = 1),
    version     INTEGER NOT NULL,
    updated_at  TEXT NOT NULL,
    updated_by  TEXT REFERENCES users(id)
);
INSERT INTO fundraising_state (id, version, updated_at) VALUES (1, 0, strftime('%Y-%m-%dT%H:%M:%fZ', 'now'));

CREATE TABLE fundraising_columns (
    id          TEXT PRIMARY KEY,
    name        TEXT NOT NULL,
    type        TEXT NOT NULL,
    field_key   TEXT,                         -- a well-known investor field stored in its own column
    position    REAL NOT NULL,
    options     TEXT NOT NULL DEFAULT '[]',   -- select options: [{id, name, color}]
    formula     TEXT,
    config      TEXT NOT NULL DEFAULT '{}',   -- display settings: currency, precision, date format...
    created_at  TEXT NOT NULL,
    created_by  TEXT REFERENCES users(id),
    updated_at  TEXT NOT NULL,
    updated_by  TEXT REFERENCES users(id),
    deleted_at  TEXT,
    deleted_by  TEXT REFERENCES users(id)
);
CREATE UNIQUE INDEX fundraising_columns_name_live ON fundraising_columns(name COLLATE NOCASE) WHERE deleted_at IS NULL;
CREATE UNIQUE INDEX fundraising_columns_key ON fundraising_columns(field_key) WHERE field_key IS NOT NULL;

CREATE TABLE fundraising_funds (
    id          TEXT PRIMARY KEY,
    column_id   TEXT NOT NULL UNIQUE REFERENCES fundraising_columns(id),
    name        TEXT NOT NULL,
    vintage     INTEGER,
    target      REAL,
    close_date  TEXT,
    created_at  TEXT NOT NULL,
    updated_at  TEXT NOT NULL,
    deleted_at  TEXT
);

CREATE TABLE fundraising_investors (
    id                TEXT PRIMARY KEY,
    position          REAL NOT NULL,
    name              TEXT,
    organization      TEXT,
    lead_source       TEXT,
    owner             TEXT,
    status            TEXT,
    notes             TEXT,
    graveyard         INTEGER NOT NULL DEFAULT 0,
    follow_up         TEXT,
    longshot          INTEGER NOT NULL DEFAULT 0,
    fields            TEXT NOT NULL DEFAULT '{}',   -- custom columns: {column_id: value}
    computed          TEXT NOT NULL DEFAULT '{}',   -- formula results: {column_id: value | {"error": msg}}
    organization_id   TEXT REFERENCES organizations(id),  -- classic link, set when first matched
    created_at        TEXT NOT NULL,
    created_by        TEXT REFERENCES users(id),
    updated_at        TEXT NOT NULL,
    updated_by        TEXT REFERENCES users(id),
    archived_at       TEXT,
    archived_by       TEXT REFERENCES users(id)
);
CREATE INDEX fundraising_investors_position ON fundraising_investors(position);
CREATE INDEX fundraising_investors_name ON fundraising_investors(name COLLATE NOCASE);

CREATE TABLE fundraising_commitments (
    id          TEXT PRIMARY KEY,
    investor_id TEXT NOT NULL REFERENCES fundraising_investors(id),
    fund_id     TEXT NOT NULL REFERENCES fundraising_funds(id),
    amount      REAL NOT NULL,
    updated_at  TEXT NOT NULL,
    updated_by  TEXT REFERENCES users(id),
    UNIQUE (investor_id, fund_id)
);
CREATE INDEX fundraising_commitments_fund ON fundraising_commitments(fund_id);

CREATE TABLE fundraising_contacts (
    id          TEXT PRIMARY KEY,
    investor_id TEXT NOT NULL REFERENCES fundraising_investors(id),
    column_id   TEXT NOT NULL REFERENCES fundraising_columns(id),
    position    INTEGER NOT NULL,
    name        TEXT NOT NULL DEFAULT '',
    email       TEXT COLLATE NOCASE,
    phone       TEXT,
    title       TEXT,
    contact_id  TEXT REFERENCES contacts(id),   -- the classic contact, linked once, by email then name
    created_at  TEXT NOT NULL,
    updated_at  TEXT NOT NULL,
    deleted_at  TEXT
);
CREATE INDEX fundraising_contacts_investor ON fundraising_contacts(investor_id, column_id, position);
CREATE INDEX fundraising_contacts_email ON fundraising_contacts(email);
CREATE INDEX fundraising_contacts_classic ON fundraising_contacts(contact_id);

CREATE TABLE fundraising_ops (
    seq         INTEGER PRIMARY KEY AUTOINCREMENT,
    version     INTEGER NOT NULL,              -- every op of one request shares the version it made
    kind        TEXT NOT NULL,
    investor_id TEXT,
    column_id   TEXT,
    before      TEXT,                          -- JSON
    after       TEXT,                          -- JSON
    actor_id    TEXT,
    actor_kind  TEXT NOT NULL,
    request_id  TEXT,
    at          TEXT NOT NULL
);
CREATE INDEX fundraising_ops_version ON fundraising_ops(version);
CREATE INDEX fundraising_ops_cell ON fundraising_ops(investor_id, column_id, version);

CREATE TABLE fundraising_views (
    id          TEXT PRIMARY KEY,
    name        TEXT NOT NULL,
    owner_id    TEXT REFERENCES users(id),
    shared      INTEGER NOT NULL DEFAULT 0,
    locked      INTEGER NOT NULL DEFAULT 0,
    position    REAL NOT NULL,
    config      TEXT NOT NULL DEFAULT '{}',   -- filters, sorts, hidden, order, widths, frozen, group_by
    created_at  TEXT NOT NULL,
    updated_at  TEXT NOT NULL,
    updated_by  TEXT REFERENCES users(id),
    deleted_at  TEXT,
    deleted_by  TEXT REFERENCES users(id)
);

CREATE TABLE fundraising_comments (
    id          TEXT PRIMARY KEY,
    investor_id TEXT NOT NULL REFERENCES fundraising_investors(id),
    author_id   TEXT NOT NULL REFERENCES users(id),
    body        TEXT NOT NULL,
    created_at  TEXT NOT NULL,
    updated_at  TEXT NOT NULL,
    deleted_at  TEXT
);
CREATE INDEX fundraising_comments_investor ON fundraising_comments(investor_id, created_at);

CREATE TABLE fundraising_mentions (
    comment_id  TEXT NOT NULL REFERENCES fundraising_comments(id),
    user_id     TEXT NOT NULL REFERENCES users(id),
    created_at  TEXT NOT NULL,
    PRIMARY KEY (comment_id, user_id)
);
CREATE INDEX fundraising_mentions_user ON fundraising_mentions(user_id, created_at);

CREATE TABLE fundraising_list_memberships (
    list_name   TEXT NOT NULL,
    investor_id TEXT NOT NULL REFERENCES fundraising_investors(id),
    rule_id     TEXT,
    added_at    TEXT NOT NULL,
    PRIMARY KEY (list_name, investor_id)
);

CREATE TABLE fundraising_automations (
    id          TEXT PRIMARY KEY,
    name        TEXT NOT NULL,
    trigger     TEXT NOT NULL CHECK (trigger IN ('row_changed', 'daily')),
    condition   TEXT NOT NULL DEFAULT '{}',   -- a filter group, the same language as views
    actions     TEXT NOT NULL DEFAULT '[]',
    enabled     INTEGER NOT NULL DEFAULT 1,
    position    INTEGER NOT NULL DEFAULT 0,
    created_at  TEXT NOT NULL,
    created_by  TEXT REFERENCES users(id),
    updated_at  TEXT NOT NULL,
    updated_by  TEXT REFERENCES users(id)
);

CREATE TABLE fundraising_automation_runs (
    id            TEXT PRIMARY KEY,
    rule_id       TEXT REFERENCES fundraising_automations(id),
    trigger       TEXT NOT NULL,
    at            TEXT NOT NULL,
    rows_checked  INTEGER NOT NULL,
    rows_matched  INTEGER NOT NULL,
    changes       TEXT NOT NULL DEFAULT '[]',
    error         TEXT
);
CREATE INDEX fundraising_automation_runs_at ON fundraising_automation_runs(at);
