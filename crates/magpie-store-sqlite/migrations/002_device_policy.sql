-- Per-app multi-device policy (JSON); NULL means the server's default.
ALTER TABLE apps ADD COLUMN device_policy TEXT;
