-- An account's sessions on top (NIM's stick-top sessions), kept on the
-- server so every device of the account gets the same list.
CREATE TABLE stick_top (
    app_id       INTEGER NOT NULL,
    accid        TEXT NOT NULL,
    to_type      INTEGER NOT NULL,
    session_id   TEXT NOT NULL,
    ext          TEXT NOT NULL,
    create_time  INTEGER NOT NULL,
    update_time  INTEGER NOT NULL,
    PRIMARY KEY (app_id, accid, to_type, session_id)
) WITHOUT ROWID;
