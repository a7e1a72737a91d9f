-- Message ids are handed out by the store (one more than the last, kept in
-- memory) and written with each row, so AUTOINCREMENT's sqlite_sequence
-- row, read and rewritten by every INSERT, bought nothing. The high-water
-- mark that keeps ids from being reused after retention deleted the newest
-- rows moves to message_journal, written once per copied group.
ALTER TABLE message_journal ADD COLUMN last_msg_id INTEGER NOT NULL DEFAULT 0;
UPDATE message_journal SET last_msg_id = max(
    coalesce((SELECT seq FROM sqlite_sequence WHERE name = 'messages'), 0),
    coalesce((SELECT max(id) FROM messages), 0)
);

CREATE TABLE messages_012 (
    id             INTEGER PRIMARY KEY,
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
INSERT INTO messages_012 SELECT id, app_id, from_accid, to_accid, client_msg_id, time, msg_type, conv_lo, conv_hi, history, to_seq, from_seq, json FROM messages;
DROP TABLE messages;
ALTER TABLE messages_012 RENAME TO messages;
CREATE INDEX messages_by_client_id ON messages (app_id, from_accid, client_msg_id, id);
CREATE INDEX messages_by_conversation ON messages (app_id, conv_lo, conv_hi, time, id);
