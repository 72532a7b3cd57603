-- The classic CRM: organizations, contacts (the hub), opportunities,
-- communications, LP profiles, the tag palette and feature requests.
-- Every record is soft-deleted: deleted_at/deleted_by, and deleted_batch
-- groups the rows one delete took with it, so a restore brings back exactly
-- those and not rows that had been deleted on their own before.

CREATE TABLE organizations (
    id            TEXT PRIMARY KEY,
    name          TEXT NOT NULL,
    type          TEXT NOT NULL DEFAULT 'other',
    website       TEXT,
    domain        TEXT,                         -- normalised: lower case, no scheme, no www.
    tags          TEXT NOT NULL DEFAULT '[]',   -- JSON array of strings
    description   TEXT,
    created_at    TEXT NOT NULL,
    created_by    TEXT REFERENCES users(id),
    updated_at    TEXT NOT NULL,
    updated_by    TEXT REFERENCES users(id),
    deleted_at    TEXT,
    deleted_by    TEXT REFERENCES users(id),
    deleted_batch TEXT
);
CREATE INDEX organizations_name ON organizations(name COLLATE NOCASE);
CREATE INDEX organizations_domain ON organizations(domain);

CREATE TABLE contacts (
    id              TEXT PRIMARY KEY,
    first_name      TEXT NOT NULL,
    last_name       TEXT NOT NULL,
    email           TEXT COLLATE NOCASE,
    other_emails    TEXT NOT NULL DEFAULT '[]', -- JSON array
    phone           TEXT,
    title           TEXT,
    organization_id TEXT REFERENCES organizations(id),
    contact_type    TEXT NOT NULL DEFAULT 'prospect',
    status          TEXT NOT NULL DEFAULT 'active',
    source          TEXT,
    tags            TEXT NOT NULL DEFAULT '[]',
    notes           TEXT,
    linkedin_url    TEXT,
    city            TEXT,
    state           TEXT,
    country         TEXT,
    location_query  TEXT,
    created_at      TEXT NOT NULL,
    created_by      TEXT REFERENCES users(id),
    updated_at      TEXT NOT NULL,
    updated_by      TEXT REFERENCES users(id),
    deleted_at      TEXT,
    deleted_by      TEXT REFERENCES users(id),
    deleted_batch   TEXT
);
CREATE UNIQUE INDEX contacts_email_live ON contacts(email) WHERE deleted_at IS NULL AND email IS NOT NULL;
CREATE INDEX contacts_organization ON contacts(organization_id);
CREATE INDEX contacts_name ON contacts(last_name COLLATE NOCASE, first_name COLLATE NOCASE);
CREATE INDEX contacts_type ON contacts(contact_type, status);
CREATE INDEX contacts_created ON contacts(created_at);

CREATE TABLE opportunities (
    id                TEXT PRIMARY KEY,
    contact_id        TEXT NOT NULL REFERENCES contacts(id),
    organization_id   TEXT REFERENCES organizations(id),
    fund_name         TEXT,
    stage             TEXT NOT NULL DEFAULT 'prospect',
    expected_amount   REAL,
    commitment_amount REAL,
    probability       INTEGER,
    owner_id          TEXT REFERENCES users(id),
    next_step         TEXT,
    lost_reason       TEXT,
    description       TEXT,
    created_at        TEXT NOT NULL,
    created_by        TEXT REFERENCES users(id),
    updated_at        TEXT NOT NULL,
    updated_by        TEXT REFERENCES users(id),
    deleted_at        TEXT,
    deleted_by        TEXT REFERENCES users(id),
    deleted_batch     TEXT
);
CREATE INDEX opportunities_contact ON opportunities(contact_id);
CREATE INDEX opportunities_stage ON opportunities(stage);

CREATE TABLE communications (
    id                 TEXT PRIMARY KEY,
    contact_id         TEXT NOT NULL REFERENCES contacts(id),
    opportunity_id     TEXT REFERENCES opportunities(id),
    type               TEXT NOT NULL,
    subject            TEXT,
    body               TEXT,
    communication_date TEXT NOT NULL,            -- when it happened, not when it was logged
    outcome            TEXT,
    next_action        TEXT,
    attendees          TEXT NOT NULL DEFAULT '[]',
    created_at         TEXT NOT NULL,
    created_by         TEXT REFERENCES users(id),
    updated_at         TEXT NOT NULL,
    updated_by         TEXT REFERENCES users(id),
    deleted_at         TEXT,
    deleted_by         TEXT REFERENCES users(id),
    deleted_batch      TEXT
);
CREATE INDEX communications_contact_date ON communications(contact_id, communication_date);
CREATE INDEX communications_date ON communications(communication_date);
CREATE INDEX communications_opportunity ON communications(opportunity_id);

CREATE TABLE lp_profiles (
    id                   TEXT PRIMARY KEY,
    contact_id           TEXT NOT NULL REFERENCES contacts(id),
    commitment_amount    REAL,
    funded_amount        REAL,
    investor_type        TEXT,
    accredited           INTEGER NOT NULL DEFAULT 0,
    accreditation_method TEXT,
    accreditation_date   TEXT,
    qualified_purchaser  INTEGER NOT NULL DEFAULT 0,
    legal_docs_signed    INTEGER NOT NULL DEFAULT 0,
    wire_received        INTEGER NOT NULL DEFAULT 0,
    k1_sent              INTEGER NOT NULL DEFAULT 0,
    notes                TEXT,
    created_at           TEXT NOT NULL,
    created_by           TEXT REFERENCES users(id),
    updated_at           TEXT NOT NULL,
    updated_by           TEXT REFERENCES users(id),
    deleted_at           TEXT,
    deleted_by           TEXT REFERENCES users(id),
    deleted_batch        TEXT
);
CREATE UNIQUE INDEX lp_profiles_contact_live ON lp_profiles(contact_id) WHERE deleted_at IS NULL;

CREATE TABLE tags (
    id            TEXT PRIMARY KEY,
    name          TEXT NOT NULL COLLATE NOCASE,
    color         TEXT NOT NULL DEFAULT '#6b7280',
    created_at    TEXT NOT NULL,
    created_by    TEXT REFERENCES users(id),
    updated_at    TEXT NOT NULL,
    updated_by    TEXT REFERENCES users(id),
    deleted_at    TEXT,
    deleted_by    TEXT REFERENCES users(id),
    deleted_batch TEXT
);
CREATE UNIQUE INDEX tags_name_live ON tags(name) WHERE deleted_at IS NULL;

CREATE TABLE feature_requests (
    id            TEXT PRIMARY KEY,
    title         TEXT NOT NULL,
    body          TEXT,
    status        TEXT NOT NULL DEFAULT 'open',
    votes         INTEGER NOT NULL DEFAULT 0,
    created_at    TEXT NOT NULL,
    created_by    TEXT REFERENCES users(id),
    updated_at    TEXT NOT NULL,
    updated_by    TEXT REFERENCES users(id),
    deleted_at    TEXT,
    deleted_by    TEXT REFERENCES users(id),
    deleted_batch TEXT
);

-- Full-text search. Rows share rowids with their tables; triggers keep them
-- in step. Deleted rows stay indexed and are filtered by the join, so a
-- restore needs no re-index.
CREATE VIRTUAL TABLE contacts_fts USING fts5(name, emails, organization, tags, notes, tokenize = 'unicode61 remove_diacritics 2');
CREATE VIRTUAL TABLE organizations_fts USING fts5(name, domain, tags, description, tokenize = 'unicode61 remove_diacritics 2');
CREATE VIRTUAL TABLE communications_fts USING fts5(subject, body, tokenize = 'unicode61 remove_diacritics 2');

CREATE TRIGGER contacts_fts_insert AFTER INSERT ON contacts BEGIN
    INSERT INTO contacts_fts (rowid, name, emails, organization, tags, notes)
    VALUES (new.rowid, new.first_name || ' ' || new.last_name,
            coalesce(new.email, '') || ' ' || new.other_emails,
            coalesce((SELECT name FROM organizations WHERE id = new.organization_id), ''),
            new.tags, coalesce(new.notes, ''));
END;
CREATE TRIGGER contacts_fts_update AFTER UPDATE OF first_name, last_name, email, other_emails, organization_id, tags, notes ON contacts BEGIN
    DELETE FROM contacts_fts WHERE rowid = old.rowid;
    INSERT INTO contacts_fts (rowid, name, emails, organization, tags, notes)
    VALUES (new.rowid, new.first_name || ' ' || new.last_name,
            coalesce(new.email, '') || ' ' || new.other_emails,
            coalesce((SELECT name FROM organizations WHERE id = new.organization_id), ''),
            new.tags, coalesce(new.notes, ''));
END;
CREATE TRIGGER organizations_fts_insert AFTER INSERT ON organizations BEGIN
    INSERT INTO organizations_fts (rowid, name, domain, tags, description)
    VALUES (new.rowid, new.name, coalesce(new.domain, ''), new.tags, coalesce(new.description, ''));
END;
CREATE TRIGGER organizations_fts_update AFTER UPDATE OF name, domain, tags, description ON organizations BEGIN
    DELETE FROM organizations_fts WHERE rowid = old.rowid;
    INSERT INTO organizations_fts (rowid, name, domain, tags, description)
    VALUES (new.rowid, new.name, coalesce(new.domain, ''), new.tags, coalesce(new.description, ''));
END;
-- A renamed organization renames itself in its contacts' search rows.
CREATE TRIGGER organizations_rename_contacts AFTER UPDATE OF name ON organizations BEGIN
    UPDATE contacts_fts SET organization = new.name
    WHERE rowid IN (SELECT rowid FROM contacts WHERE organization_id = new.id);
END;
CREATE TRIGGER communications_fts_insert AFTER INSERT ON communications BEGIN
    INSERT INTO communications_fts (rowid, subject, body) VALUES (new.rowid, coalesce(new.subject, ''), coalesce(new.body, ''));
END;
CREATE TRIGGER communications_fts_update AFTER UPDATE OF subject, body ON communications BEGIN
    DELETE FROM communications_fts WHERE rowid = old.rowid;
    INSERT INTO communications_fts (rowid, subject, body) VALUES (new.rowid, coalesce(new.subject, ''), coalesce(new.body, ''));
END;
