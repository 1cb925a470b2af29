-- What each API key may call: `api` (the JSON API), `open311` (Open311 GeoReport v2), or both,
-- comma-separated. Keys made before scopes existed are the JSON API's.
ALTER TABLE api_keys ADD COLUMN scopes TEXT NOT NULL DEFAULT 'api';

-- A case reported through Open311, with what the report carried that a case does not keep.
CREATE TABLE open311_requests (
    case_number BIGINT PRIMARY KEY REFERENCES cases (number),
    -- The key that reported it: a key sees only the requests it reported.
    api_key_id BIGINT NOT NULL REFERENCES api_keys (id),
    -- Only a hash of the token handed to the client is kept.
    token_hash TEXT NOT NULL UNIQUE,
    device_id TEXT,
    account_id TEXT,
    address_id TEXT,
    -- A JSON array of the photos' addresses.
    media_urls JSONB NOT NULL,
    created_at TIMESTAMPTZ NOT NULL
);

CREATE INDEX open311_requests_key ON open311_requests (api_key_id, created_at);

-- The updates a client posted, by the client's own id for each, so that a retried post is
-- recorded once; `event_id` is the note it made, whose id the client was given.
CREATE TABLE open311_updates (
    api_key_id BIGINT NOT NULL REFERENCES api_keys (id),
    client_update_id TEXT NOT NULL,
    event_id BIGINT NOT NULL REFERENCES events (id),
    PRIMARY KEY (api_key_id, client_update_id)
);

-- Open311 clients fetch a window of updates: the transitions of their cases.
CREATE INDEX events_kind_at ON events (kind, at);
