-- Every backup taken, full (the whole database) or grid (a JSON snapshot of the grid).
CREATE TABLE backups (
    id             TEXT PRIMARY KEY,
    kind           TEXT NOT NULL CHECK (kind IN ('full', 'grid')),
    reason         TEXT NOT NULL CHECK (reason IN ('manual', 'auto', 'pre_restore', 'pre_reset', 'pre_import')),
    file           TEXT NOT NULL,            -- name under CRM_DATA_DIR/backups/
    size           INTEGER NOT NULL,
    sha256         TEXT NOT NULL,
    row_counts     TEXT NOT NULL,            -- JSON {table: rows}
    created_at     TEXT NOT NULL,
    created_by     TEXT REFERENCES users(id),
    verified_at    TEXT,
    verified_ok    INTEGER,
    verify_detail  TEXT,
    deleted_at     TEXT                      -- pruned by retention: the file is gone, the record stays
);
CREATE INDEX backups_created ON backups(created_at);
