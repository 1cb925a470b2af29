-- Instants are INTEGER unix microseconds (see DbTime): they sort as numbers, and round-trip
-- exactly with PostgreSQL's timestamptz.

-- AUTOINCREMENT: a number, once committed, is never given to another case, even if the case
-- with the highest number were ever deleted.
CREATE TABLE cases (
    number INTEGER PRIMARY KEY AUTOINCREMENT,
    service TEXT NOT NULL,
    state TEXT NOT NULL,
    open BOOLEAN NOT NULL,
    priority TEXT NOT NULL,
    team TEXT NOT NULL,
    assignee TEXT,
    contact_name TEXT NOT NULL,
    contact_email TEXT,
    contact_phone TEXT,
    preferred_channel TEXT NOT NULL,
    language TEXT NOT NULL,
    answers TEXT NOT NULL,
    description TEXT,
    lat REAL,
    long REAL,
    address TEXT,
    external_system TEXT,
    external_reference TEXT,
    sla_due_at INTEGER NOT NULL,
    sla_breached_at INTEGER,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    closed_at INTEGER,
    version INTEGER NOT NULL
);

CREATE UNIQUE INDEX cases_external ON cases (external_system, external_reference)
    WHERE external_system IS NOT NULL;

-- The worktray's lists: mostly open cases, soonest due first, within a team, a person's queue,
-- a service or a state. Partial indexes stay small as closed cases pile up.
CREATE INDEX cases_open_due ON cases (sla_due_at, number) WHERE open;
-- The SLA sweep: open cases not yet marked as past due.
CREATE INDEX cases_sla_unmarked ON cases (sla_due_at, number) WHERE open AND sla_breached_at IS NULL;
CREATE INDEX cases_open_team_due ON cases (team, sla_due_at, number) WHERE open;
CREATE INDEX cases_open_assignee_due ON cases (assignee, sla_due_at, number) WHERE open;
CREATE INDEX cases_open_service_due ON cases (service, sla_due_at, number) WHERE open;
CREATE INDEX cases_state_due ON cases (state, sla_due_at, number);
CREATE INDEX cases_due ON cases (sla_due_at, number);
CREATE INDEX cases_updated ON cases (updated_at, number);
CREATE INDEX cases_created ON cases (created_at, number);

-- Free-text search: trigrams find any substring of three or more characters, in any case.
-- External content: the text stays in `cases` only; the triggers keep the index in step. No
-- column sizes: they serve only ranking, which the worktray does not do.
CREATE VIRTUAL TABLE cases_search USING fts5 (
    contact_name, contact_email, contact_phone, description,
    content = 'cases', content_rowid = 'number', tokenize = 'trigram', columnsize = 0
);
-- FTS5 writes a new segment at each statement of a bulk import and merges them as it goes;
-- merging 16 at a time instead of 4 rewrites the index far less often.
INSERT INTO cases_search (cases_search, rank) VALUES ('automerge', 16);

CREATE TRIGGER cases_search_insert AFTER INSERT ON cases BEGIN
    INSERT INTO cases_search (rowid, contact_name, contact_email, contact_phone, description)
    VALUES (new.number, new.contact_name, new.contact_email, new.contact_phone, new.description);
END;

-- Most updates change none of the searched text; they leave the index alone.
CREATE TRIGGER cases_search_update AFTER UPDATE ON cases
WHEN old.contact_name IS NOT new.contact_name
    OR old.contact_email IS NOT new.contact_email
    OR old.contact_phone IS NOT new.contact_phone
    OR old.description IS NOT new.description
BEGIN
    INSERT INTO cases_search (cases_search, rowid, contact_name, contact_email, contact_phone, description)
    VALUES ('delete', old.number, old.contact_name, old.contact_email, old.contact_phone, old.description);
    INSERT INTO cases_search (rowid, contact_name, contact_email, contact_phone, description)
    VALUES (new.number, new.contact_name, new.contact_email, new.contact_phone, new.description);
END;

CREATE TRIGGER cases_search_delete AFTER DELETE ON cases BEGIN
    INSERT INTO cases_search (cases_search, rowid, contact_name, contact_email, contact_phone, description)
    VALUES ('delete', old.number, old.contact_name, old.contact_email, old.contact_phone, old.description);
END;

CREATE TABLE events (
    id INTEGER PRIMARY KEY,
    case_number INTEGER NOT NULL REFERENCES cases (number),
    at INTEGER NOT NULL,
    actor TEXT NOT NULL,
    kind TEXT NOT NULL,
    data TEXT NOT NULL
);

CREATE INDEX events_case ON events (case_number, id);

CREATE TABLE jobs (
    id INTEGER PRIMARY KEY,
    kind TEXT NOT NULL,
    payload TEXT NOT NULL,
    run_at INTEGER NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    last_error TEXT,
    key TEXT,
    locked_by TEXT,
    locked_until INTEGER,
    failed_at INTEGER
);

CREATE UNIQUE INDEX jobs_key ON jobs (key) WHERE key IS NOT NULL;
CREATE INDEX jobs_due ON jobs (run_at, id) WHERE failed_at IS NULL;
CREATE INDEX jobs_failed ON jobs (failed_at, id) WHERE failed_at IS NOT NULL;

CREATE TABLE api_keys (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL,
    role TEXT NOT NULL,
    prefix TEXT NOT NULL,
    hash TEXT NOT NULL UNIQUE,
    created_at INTEGER NOT NULL,
    revoked_at INTEGER,
    last_used_at INTEGER
);

CREATE TABLE idempotency_keys (
    api_key_id INTEGER NOT NULL REFERENCES api_keys (id),
    key TEXT NOT NULL,
    request_hash TEXT NOT NULL,
    case_number INTEGER NOT NULL REFERENCES cases (number),
    created_at INTEGER NOT NULL,
    PRIMARY KEY (api_key_id, key)
);
