-- Per-app login authentication settings (JSON); NULL means the defaults.
ALTER TABLE apps ADD COLUMN login_auth TEXT;
