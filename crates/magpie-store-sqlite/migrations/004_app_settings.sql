-- Per-app settings as typed, versioned documents, one row per group
-- (device_policy, login_auth, ...); a missing row means the server's default.
CREATE TABLE app_settings (
    app_id      INTEGER NOT NULL REFERENCES apps(id),
    name        TEXT NOT NULL,
    version     INTEGER NOT NULL,
    value       TEXT NOT NULL,
    updated_at  INTEGER NOT NULL,
    PRIMARY KEY (app_id, name)
) WITHOUT ROWID;

-- The JSON columns of migrations 002 and 003 were version 1 of these documents.
INSERT INTO app_settings (app_id, name, version, value, updated_at)
    SELECT id, 'device_policy', 1, device_policy, created_at FROM apps
    WHERE device_policy IS NOT NULL;
INSERT INTO app_settings (app_id, name, version, value, updated_at)
    SELECT id, 'login_auth', 1, login_auth, created_at FROM apps
    WHERE login_auth IS NOT NULL;

ALTER TABLE apps DROP COLUMN device_policy;
ALTER TABLE apps DROP COLUMN login_auth;
