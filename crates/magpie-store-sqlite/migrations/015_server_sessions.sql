-- NIM's server-side sessions (the session service): one row per account
-- and peer, moved up by every message between them (in the message
-- journal's ingest), with the app's extension. last_msg_id is the last
-- message (0: none yet); last_recalled is set when that message was
-- recalled. Listed by scanning the account's rows (an account has as many
-- as it has peers), so a message writes no second index.
CREATE TABLE server_sessions (
    app_id         INTEGER NOT NULL,
    accid          TEXT NOT NULL,
    to_type        INTEGER NOT NULL,
    session_id     TEXT NOT NULL,
    update_time    INTEGER NOT NULL,
    ext            TEXT NOT NULL DEFAULT '',
    last_msg_id    INTEGER NOT NULL DEFAULT 0,
    last_recalled  INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (app_id, accid, to_type, session_id)
) WITHOUT ROWID;
-- The sessions of the messages already stored: the sender's and the
-- receiver's, each with the newest message between them.
INSERT INTO server_sessions (app_id, accid, to_type, session_id, update_time, last_msg_id)
    SELECT app_id, from_accid, 0, to_accid, max(time), max(id) FROM messages WHERE true
    GROUP BY app_id, from_accid, to_accid
    ON CONFLICT (app_id, accid, to_type, session_id) DO UPDATE SET
        update_time = max(update_time, excluded.update_time),
        last_msg_id = max(last_msg_id, excluded.last_msg_id);
INSERT INTO server_sessions (app_id, accid, to_type, session_id, update_time, last_msg_id)
    SELECT app_id, to_accid, 0, from_accid, max(time), max(id) FROM messages WHERE true
    GROUP BY app_id, to_accid, from_accid
    ON CONFLICT (app_id, accid, to_type, session_id) DO UPDATE SET
        update_time = max(update_time, excluded.update_time),
        last_msg_id = max(last_msg_id, excluded.last_msg_id);
-- A last message recalled before the upgrade shows as recalled: the
-- sender's recall note is kept under the duplicate key 'recall:' and the
-- message's client id.
UPDATE server_sessions SET last_recalled = 1 WHERE EXISTS (
    SELECT 1 FROM messages m JOIN stored_notes n
        ON n.app_id = m.app_id AND n.from_accid = m.from_accid
        AND n.client_msg_id = 'recall:' || m.client_msg_id
    WHERE m.id = server_sessions.last_msg_id);
