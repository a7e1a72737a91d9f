-- Apps deleted with `magpie app delete`: their rows are removed at once;
-- messages that were being stored at that moment are removed by the next
-- retention round (MessageStore::purge_deleted_apps).
CREATE TABLE deleted_apps (
    app_id      INTEGER PRIMARY KEY,
    deleted_at  INTEGER NOT NULL
);
