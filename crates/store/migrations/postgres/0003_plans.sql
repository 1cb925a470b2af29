-- Each case's shared plan, the links that let a resident open it, and the reminders sent.
-- Due dates are ISO `YYYY-MM-DD` text on both backends: they compare in date order as text, so
-- the queries are the same SQL on SQLite and PostgreSQL.

-- A plan's row exists once the plan has been saved; `version` guards staff edits.
CREATE TABLE plans (
    case_number BIGINT PRIMARY KEY REFERENCES cases (number),
    goal TEXT,
    version BIGINT NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL
);

-- `id` is a UUID made by the app, so that an event can name an action before it is stored.
CREATE TABLE plan_actions (
    id TEXT PRIMARY KEY,
    case_number BIGINT NOT NULL REFERENCES cases (number),
    position INTEGER NOT NULL,
    owner TEXT NOT NULL CHECK (owner IN ('resident', 'council')),
    title TEXT NOT NULL,
    details TEXT,
    due_on TEXT,
    completed_at TIMESTAMPTZ,
    completed_by TEXT,
    CHECK ((completed_at IS NULL) = (completed_by IS NULL))
);

CREATE INDEX plan_actions_case ON plan_actions (case_number, position);
-- The reminder sweep: residents' actions still to do, by due date.
CREATE INDEX plan_actions_resident_due ON plan_actions (due_on)
    WHERE owner = 'resident' AND completed_at IS NULL;

-- One row per reminder given: the primary key is what makes a reminder happen once per action
-- and due date, however many workers sweep. A new due date re-arms it.
CREATE TABLE plan_reminders (
    action_id TEXT NOT NULL,
    due_on TEXT NOT NULL,
    reminder TEXT NOT NULL,
    case_number BIGINT NOT NULL REFERENCES cases (number),
    at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (action_id, due_on, reminder)
);

-- Only a hash of a link's token is kept: reading this table gives no way into a plan.
CREATE TABLE access_links (
    id BIGSERIAL PRIMARY KEY,
    case_number BIGINT NOT NULL REFERENCES cases (number),
    token_hash TEXT NOT NULL UNIQUE,
    created_at TIMESTAMPTZ NOT NULL,
    created_by TEXT NOT NULL,
    expires_at TIMESTAMPTZ NOT NULL,
    revoked_at TIMESTAMPTZ,
    revoked_by TEXT,
    last_used_at TIMESTAMPTZ,
    uses BIGINT NOT NULL DEFAULT 0
);

CREATE INDEX access_links_case ON access_links (case_number, id);

-- Every time a link was used; no address or browser, only when.
CREATE TABLE access_link_uses (
    link_id BIGINT NOT NULL REFERENCES access_links (id),
    at TIMESTAMPTZ NOT NULL
);

CREATE INDEX access_link_uses_link ON access_link_uses (link_id, at);
