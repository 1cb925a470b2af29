-- Outbound webhooks. An endpoint subscribes to some kinds of event, for one service or all.
-- Deliveries are written by the store in the same transaction as the event that causes them,
-- each with the job that posts it (the outbox): a delivery exists if and only if its event
-- was committed.
CREATE TABLE webhook_endpoints (
    id INTEGER PRIMARY KEY,
    url TEXT NOT NULL,
    description TEXT NOT NULL,
    -- NULL: every service.
    service TEXT,
    -- The key deliveries are signed with. Kept as it is, not hashed: signing needs the secret
    -- itself.
    secret TEXT NOT NULL,
    -- The admin allowed http, and hosts on this machine or a private network.
    allow_private BOOLEAN NOT NULL,
    enabled BOOLEAN NOT NULL,
    created_at INTEGER NOT NULL
);

CREATE TABLE webhook_subscriptions (
    endpoint_id INTEGER NOT NULL REFERENCES webhook_endpoints (id) ON DELETE CASCADE,
    -- A webhook event name, such as `case.created`.
    event TEXT NOT NULL,
    PRIMARY KEY (endpoint_id, event)
);

CREATE TABLE webhook_deliveries (
    id INTEGER PRIMARY KEY,
    endpoint_id INTEGER NOT NULL REFERENCES webhook_endpoints (id) ON DELETE CASCADE,
    event_id INTEGER NOT NULL REFERENCES events (id),
    event TEXT NOT NULL,
    -- The case's state just after the event, for the payload.
    case_state TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('pending', 'delivered', 'failed')),
    attempts INTEGER NOT NULL DEFAULT 0,
    last_status INTEGER,
    last_error TEXT,
    created_at INTEGER NOT NULL,
    last_attempt_at INTEGER
);

CREATE INDEX webhook_deliveries_endpoint ON webhook_deliveries (endpoint_id, id);
