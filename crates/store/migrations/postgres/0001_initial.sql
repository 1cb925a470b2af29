-- pg_trgm is a trusted extension: a database owner may create it without being a superuser.
CREATE EXTENSION IF NOT EXISTS pg_trgm;

-- BIGSERIAL: sequences are not transactional, so a number is never given twice, even when the
-- insert that took it rolls back.
CREATE TABLE cases (
    number BIGSERIAL PRIMARY KEY,
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
    answers JSONB NOT NULL,
    description TEXT,
    lat DOUBLE PRECISION,
    long DOUBLE PRECISION,
    address TEXT,
    external_system TEXT,
    external_reference TEXT,
    sla_due_at TIMESTAMPTZ NOT NULL,
    sla_breached_at TIMESTAMPTZ,
    created_at TIMESTAMPTZ NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL,
    closed_at TIMESTAMPTZ,
    version BIGINT NOT NULL,
    -- Free-text search looks for a substring of this, through the trigram index below. The
    -- newlines keep a search from matching across two fields.
    search TEXT GENERATED ALWAYS AS (lower(
        contact_name || E'\n' || coalesce(contact_email, '') || E'\n'
        || coalesce(contact_phone, '') || E'\n' || coalesce(description, '')
    )) STORED
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
CREATE INDEX cases_search ON cases USING gin (search gin_trgm_ops);

CREATE TABLE events (
    id BIGSERIAL PRIMARY KEY,
    case_number BIGINT NOT NULL REFERENCES cases (number),
    at TIMESTAMPTZ NOT NULL,
    actor TEXT NOT NULL,
    kind TEXT NOT NULL,
    data JSONB NOT NULL
);

CREATE INDEX events_case ON events (case_number, id);

CREATE TABLE jobs (
    id BIGSERIAL PRIMARY KEY,
    kind TEXT NOT NULL,
    payload JSONB NOT NULL,
    run_at TIMESTAMPTZ NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    last_error TEXT,
    key TEXT,
    locked_by TEXT,
    locked_until TIMESTAMPTZ,
    failed_at TIMESTAMPTZ
);

CREATE UNIQUE INDEX jobs_key ON jobs (key) WHERE key IS NOT NULL;
CREATE INDEX jobs_due ON jobs (run_at, id) WHERE failed_at IS NULL;
CREATE INDEX jobs_failed ON jobs (failed_at, id) WHERE failed_at IS NOT NULL;

CREATE TABLE api_keys (
    id BIGSERIAL PRIMARY KEY,
    name TEXT NOT NULL,
    role TEXT NOT NULL,
    prefix TEXT NOT NULL,
    hash TEXT NOT NULL UNIQUE,
    created_at TIMESTAMPTZ NOT NULL,
    revoked_at TIMESTAMPTZ,
    last_used_at TIMESTAMPTZ
);

CREATE TABLE idempotency_keys (
    api_key_id BIGINT NOT NULL REFERENCES api_keys (id),
    key TEXT NOT NULL,
    request_hash TEXT NOT NULL,
    case_number BIGINT NOT NULL REFERENCES cases (number),
    created_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (api_key_id, key)
);
