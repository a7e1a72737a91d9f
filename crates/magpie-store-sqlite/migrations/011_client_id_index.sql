-- A first send is stored without looking for an earlier copy by client id
-- (only resends are looked up), so (sender, client id) is no longer unique
-- by constraint: a client that reuses an id without NIM's resend flag gets a
-- second message instead of stopping the copy of every message into the
-- tables. Lookups by client id take the first.
DROP INDEX messages_by_client_id;
CREATE INDEX messages_by_client_id ON messages (app_id, from_accid, client_msg_id, id);
