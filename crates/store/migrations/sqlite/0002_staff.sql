-- Staff, their teams, their sessions, and what guards signing in.

CREATE TABLE teams (
    code TEXT PRIMARY KEY,
    name TEXT NOT NULL
);

CREATE TABLE staff (
    id INTEGER PRIMARY KEY,
    email TEXT NOT NULL,
    name TEXT NOT NULL,
    role TEXT NOT NULL,
    -- NULL until they set a password, from a one-time link.
    password_hash TEXT,
    active BOOLEAN NOT NULL,
    created_at INTEGER NOT NULL,
    deactivated_at INTEGER,
    CHECK (active = (deactivated_at IS NULL))
);

-- One member of staff per address, however it is capitalised.
CREATE UNIQUE INDEX staff_email ON staff (lower(email));

CREATE TABLE staff_teams (
    staff_id INTEGER NOT NULL REFERENCES staff (id),
    team_code TEXT NOT NULL REFERENCES teams (code),
    PRIMARY KEY (staff_id, team_code)
);

CREATE INDEX staff_teams_team ON staff_teams (team_code, staff_id);

-- `id` is a hash of the id in the session cookie: whoever reads this table cannot use a
-- session from it.
CREATE TABLE sessions (
    id TEXT PRIMARY KEY,
    staff_id INTEGER REFERENCES staff (id),
    data TEXT NOT NULL,
    expires_at INTEGER NOT NULL
);

CREATE INDEX sessions_staff ON sessions (staff_id) WHERE staff_id IS NOT NULL;
CREATE INDEX sessions_expires ON sessions (expires_at);

-- Failed sign-ins, counted in the database so that the limit holds across replicas. `key` is a
-- hash of the email address tried, or of the client's address: no address is stored.
CREATE TABLE sign_in_failures (
    key TEXT NOT NULL,
    at INTEGER NOT NULL
);

CREATE INDEX sign_in_failures_key ON sign_in_failures (key, at);
CREATE INDEX sign_in_failures_at ON sign_in_failures (at);

-- One-time links to set a password. Only a hash of the token is stored.
CREATE TABLE set_password_tokens (
    hash TEXT PRIMARY KEY,
    staff_id INTEGER NOT NULL REFERENCES staff (id),
    expires_at INTEGER NOT NULL
);

CREATE INDEX set_password_tokens_staff ON set_password_tokens (staff_id);
