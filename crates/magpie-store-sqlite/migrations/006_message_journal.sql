-- The message journal: the number of the last journal record whose writes
-- are in the tables (records after it are copied in at the next open).
CREATE TABLE message_journal (
    id        INTEGER PRIMARY KEY CHECK (id = 1),
    ingested  INTEGER NOT NULL
);
INSERT INTO message_journal (id, ingested) VALUES (1, 0);
