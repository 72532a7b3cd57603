-- Users, sign-in invites, revoked tokens, settings and the audit trail.

CREATE TABLE users (
    id             TEXT PRIMARY KEY,
    username       TEXT NOT NULL UNIQUE COLLATE NOCASE,
    email          TEXT UNIQUE COLLATE NOCASE,
    display_name   TEXT NOT NULL DEFAULT '',
    password_hash  TEXT,                       -- NULL until an invite is accepted
    role           TEXT NOT NULL CHECK (role IN ('admin', 'member', 'bot')),
    is_active      INTEGER NOT NULL DEFAULT 1 CHECK (is_active IN (0, 1)),
    token_version  INTEGER NOT NULL DEFAULT 1, -- bumped to revoke every token of the user
    last_login_at  TEXT,
    created_at     TEXT NOT NULL,
    created_by     TEXT REFERENCES users(id),
    updated_at     TEXT NOT NULL,
    updated_by     TEXT REFERENCES users(id)
);

-- One-time links that set a password: a new user's invite or a reset.
-- Only the SHA-256 of the token is stored.
CREATE TABLE user_invites (
    id          TEXT PRIMARY KEY,
    user_id     TEXT NOT NULL REFERENCES users(id),
    token_hash  TEXT NOT NULL UNIQUE,
    purpose     TEXT NOT NULL CHECK (purpose IN ('invite', 'reset')),
    expires_at  TEXT NOT NULL,
    used_at     TEXT,
    created_at  TEXT NOT NULL,
    created_by  TEXT REFERENCES users(id)
);
CREATE INDEX user_invites_user ON user_invites(user_id);

-- Tokens signed out before they expire (by their JWT id).
CREATE TABLE revoked_tokens (
    jti         TEXT PRIMARY KEY,
    expires_at  TEXT NOT NULL
);

CREATE TABLE app_settings (
    key         TEXT PRIMARY KEY,
    value       TEXT NOT NULL,                 -- JSON
    updated_at  TEXT NOT NULL,
    updated_by  TEXT REFERENCES users(id)
);

CREATE TABLE audit_log (
    id           TEXT PRIMARY KEY,
    at           TEXT NOT NULL,
    actor_id     TEXT,
    actor_kind   TEXT NOT NULL CHECK (actor_kind IN ('user', 'bot', 'system', 'agent')),
    entity_type  TEXT NOT NULL,
    entity_id    TEXT,
    action       TEXT NOT NULL,
    changes      TEXT NOT NULL DEFAULT '{}',   -- JSON: {field: [before, after]}
    request_id   TEXT,
    ip           TEXT
);
CREATE INDEX audit_log_at ON audit_log(at);
CREATE INDEX audit_log_entity ON audit_log(entity_type, entity_id, at);
CREATE INDEX audit_log_actor ON audit_log(actor_id, at);
