-- NIM's multiport push switch per account (switch_open: 1 a desktop online
-- mutes mobile push, 2 it does not; 2 by default) and each device's push
-- token (NIM's update_apns_token), kept for the push service.
ALTER TABLE accounts ADD COLUMN switch_open INTEGER NOT NULL DEFAULT 2;

CREATE TABLE push_tokens (
    app_id      INTEGER NOT NULL,
    accid       TEXT NOT NULL,
    device_id   TEXT NOT NULL,
    token       TEXT NOT NULL,
    cer_name    TEXT NOT NULL,
    updated_at  INTEGER NOT NULL,
    PRIMARY KEY (app_id, accid, device_id)
) WITHOUT ROWID;
