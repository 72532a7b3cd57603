-- The agentic substrate (docs/AGENTS-SUBSTRATE.md): one identity per person or organization across the
-- grid and the classic CRM, an append-only log of every human and agent touch, and the relationship
-- graph the strength scores live on. Written by crm.ingest (entities, links, edges) and
-- crm.interactions (the log); no other module writes them.

-- One person or organization, however many records the CRM keeps of them.
CREATE TABLE canonical_entities (
    id             TEXT PRIMARY KEY,
    kind           TEXT NOT NULL CHECK (kind IN ('person', 'organization')),
    display_name   TEXT NOT NULL,
    primary_email  TEXT,            -- a person's normalised address
    primary_domain TEXT,            -- an organization's domain (never a free-mail one)
    merged_into    TEXT REFERENCES canonical_entities(id),  -- left by a hand merge: follow it
    created_at     TEXT NOT NULL,
    updated_at     TEXT NOT NULL
);
CREATE INDEX canonical_entities_email ON canonical_entities(primary_email) WHERE primary_email IS NOT NULL;
CREATE INDEX canonical_entities_domain ON canonical_entities(primary_domain) WHERE primary_domain IS NOT NULL;

-- A source record (or an email address) and the entity it is; each source belongs to one entity.
-- source_table names the owner's table: fundraising_investors, fundraising_contacts, contacts,
-- organizations, lp_profiles, or 'email_address' (source_id = the normalised address).
CREATE TABLE entity_links (
    id           TEXT PRIMARY KEY,
    entity_id    TEXT NOT NULL REFERENCES canonical_entities(id),
    source_table TEXT NOT NULL,
    source_id    TEXT NOT NULL,
    method       TEXT NOT NULL,     -- the rule that linked it: email, name_domain, domain, name, only, manual
    confidence   REAL NOT NULL CHECK (confidence >= 0 AND confidence <= 1),
    evidence     TEXT NOT NULL DEFAULT '{}',   -- JSON: what matched, in the rule's words
    pinned       INTEGER NOT NULL DEFAULT 0 CHECK (pinned IN (0, 1)),  -- set by a hand split or merge: the resolver leaves it
    created_at   TEXT NOT NULL,
    updated_at   TEXT NOT NULL,
    UNIQUE (source_table, source_id)
);
CREATE INDEX entity_links_entity ON entity_links(entity_id);

-- Every touch of the CRM's people and organizations by a human, an agent, a bot or the system.
-- Append-only: the triggers below refuse UPDATE and DELETE, so history cannot be rewritten.
CREATE TABLE interaction_log (
    id          TEXT PRIMARY KEY,
    at          TEXT NOT NULL,
    actor_kind  TEXT NOT NULL CHECK (actor_kind IN ('human', 'agent', 'bot', 'system')),
    actor_id    TEXT,               -- users.id; NULL for the system
    action      TEXT NOT NULL,      -- e.g. contact.update, proposal.approve, mcp.search
    entity_refs TEXT NOT NULL DEFAULT '[]',   -- JSON [{"type": "entity"|<source table>, "id": ...}]
    payload     TEXT NOT NULL DEFAULT '{}'    -- JSON: what was asked or changed
);
CREATE INDEX interaction_log_at ON interaction_log(at);
CREATE INDEX interaction_log_actor ON interaction_log(actor_id, at);

-- The refs of each entry, one row each, so "everything that touched X" is an index lookup.
CREATE TABLE interaction_refs (
    interaction_id TEXT NOT NULL REFERENCES interaction_log(id),
    ref_type       TEXT NOT NULL,
    ref_id         TEXT NOT NULL,
    PRIMARY KEY (interaction_id, ref_type, ref_id)
);
CREATE INDEX interaction_refs_ref ON interaction_refs(ref_type, ref_id);

CREATE TRIGGER interaction_log_no_update BEFORE UPDATE ON interaction_log
BEGIN SELECT RAISE(ABORT, 'interaction_log is append-only'); END;
CREATE TRIGGER interaction_log_no_delete BEFORE DELETE ON interaction_log
BEGIN SELECT RAISE(ABORT, 'interaction_log is append-only'); END;
CREATE TRIGGER interaction_refs_no_update BEFORE UPDATE ON interaction_refs
BEGIN SELECT RAISE(ABORT, 'interaction_log is append-only'); END;
CREATE TRIGGER interaction_refs_no_delete BEFORE DELETE ON interaction_refs
BEGIN SELECT RAISE(ABORT, 'interaction_log is append-only'); END;

-- Who is connected to whom. from_kind 'user' is a team member (users.id), 'entity' a canonical
-- entity; kind is works_at (person -> organization), introduced, or emailed (team member ->
-- person or organization, weight = the relationship strength 0..1 from email and
-- communication metadata only, never content). Recomputed, never edited by hand.
CREATE TABLE relationship_edges (
    id          TEXT PRIMARY KEY,
    from_kind   TEXT NOT NULL CHECK (from_kind IN ('user', 'entity')),
    from_id     TEXT NOT NULL,
    to_id       TEXT NOT NULL REFERENCES canonical_entities(id),
    kind        TEXT NOT NULL CHECK (kind IN ('works_at', 'introduced', 'emailed')),
    weight      REAL NOT NULL DEFAULT 0 CHECK (weight >= 0 AND weight <= 1),
    evidence    TEXT NOT NULL DEFAULT '{}',   -- JSON: counts both ways, last contact, ...
    first_seen  TEXT,
    last_seen   TEXT,
    updated_at  TEXT NOT NULL,
    UNIQUE (from_kind, from_id, to_id, kind)
);
CREATE INDEX relationship_edges_to ON relationship_edges(to_id, kind, weight);
