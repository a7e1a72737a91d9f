-- Apps: the unit of isolation.
CREATE TABLE apps (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    app_key     TEXT NOT NULL UNIQUE,
    app_secret  TEXT NOT NULL,
    name        TEXT NOT NULL,
    created_at  INTEGER NOT NULL
);

-- Accounts, scoped by app. Tokens are stored as salt + SHA-256 digest.
CREATE TABLE accounts (
    app_id      INTEGER NOT NULL REFERENCES apps(id),
    accid       TEXT NOT NULL,
    token_salt  BLOB NOT NULL,
    token_hash  BLOB NOT NULL,
    name        TEXT NOT NULL DEFAULT '',
    icon        TEXT NOT NULL DEFAULT '',
    sign        TEXT NOT NULL DEFAULT '',
    email       TEXT NOT NULL DEFAULT '',
    birth       TEXT NOT NULL DEFAULT '',
    mobile      TEXT NOT NULL DEFAULT '',
    gender      INTEGER NOT NULL DEFAULT 0,
    ex          TEXT NOT NULL DEFAULT '',
    blocked     INTEGER NOT NULL DEFAULT 0,
    created_at  INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL,
    PRIMARY KEY (app_id, accid)
) WITHOUT ROWID;
