-- An admin may choose not to receive the evening digest (PATCH /api/me); everyone else gets it.
ALTER TABLE users ADD COLUMN digest_opt_out INTEGER NOT NULL DEFAULT 0 CHECK (digest_opt_out IN (0, 1));
