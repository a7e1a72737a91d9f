-- Operators of the web console (`magpie operator create`); passwords as
-- argon2id PHC strings.
CREATE TABLE operators (
    name           TEXT PRIMARY KEY,
    password_hash  TEXT NOT NULL,
    created_at     INTEGER NOT NULL
) WITHOUT ROWID;
