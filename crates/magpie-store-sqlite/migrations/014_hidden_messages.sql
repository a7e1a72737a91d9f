-- One-way deletion and clearing one's own server history (NIM's
-- nim_msglog_delete_message_self_async and
-- nim_msglog_delete_history_online_async) hide a message from one of its
-- two accounts only: bits of magpie_store::message::hidden (1 and 2: out
-- of the sender's and the receiver's history, 4 and 8: out of their sync).
ALTER TABLE messages ADD COLUMN hidden INTEGER NOT NULL DEFAULT 0;
