-- Messages: one row each, with the JSON every device receives.
CREATE TABLE messages (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
    app_id         INTEGER NOT NULL,
    from_accid     TEXT NOT NULL,
    to_accid       TEXT NOT NULL,
    client_msg_id  TEXT NOT NULL,
    time           INTEGER NOT NULL,
    msg_type       INTEGER NOT NULL,
    conv_lo        TEXT NOT NULL,
    conv_hi        TEXT NOT NULL,
    history        INTEGER NOT NULL,
    to_seq         INTEGER NOT NULL,
    from_seq       INTEGER NOT NULL,
    json           TEXT NOT NULL
);
-- A sender's client message id is unique: a resent message is the same message.
CREATE UNIQUE INDEX messages_by_client_id ON messages (app_id, from_accid, client_msg_id);
-- History of one conversation (the two accids in order), by time.
CREATE INDEX messages_by_conversation ON messages (app_id, conv_lo, conv_hi, time, id);

-- Every account's ordered log: positions 1, 2, 3, ... without gaps.
CREATE TABLE account_log (
    app_id  INTEGER NOT NULL,
    accid   TEXT NOT NULL,
    seq     INTEGER NOT NULL,
    kind    INTEGER NOT NULL,
    msg_id  INTEGER,
    json    TEXT,
    time    INTEGER NOT NULL,
    PRIMARY KEY (app_id, accid, seq)
) WITHOUT ROWID;

-- Per account: the highest position a device reported applied, and the
-- last position of a log that retention emptied (so positions go on).
CREATE TABLE account_state (
    app_id     INTEGER NOT NULL,
    accid      TEXT NOT NULL,
    delivered  INTEGER NOT NULL DEFAULT 0,
    last_seq   INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (app_id, accid)
) WITHOUT ROWID;

-- Stored custom notifications, unique by the sender's client id.
CREATE TABLE stored_notes (
    app_id         INTEGER NOT NULL,
    from_accid     TEXT NOT NULL,
    client_msg_id  TEXT NOT NULL,
    seq            INTEGER NOT NULL,
    time           INTEGER NOT NULL,
    json           TEXT NOT NULL,
    PRIMARY KEY (app_id, from_accid, client_msg_id)
) WITHOUT ROWID;

-- NIM's special relations of an account: who it has blacklisted.
CREATE TABLE blacklist (
    app_id  INTEGER NOT NULL,
    accid   TEXT NOT NULL,
    target  TEXT NOT NULL,
    PRIMARY KEY (app_id, accid, target)
) WITHOUT ROWID;
