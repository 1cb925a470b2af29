-- Messages between the council and residents. An outbound message is written with the job
-- that sends it, in one transaction (the outbox): a message is never sent that was not saved,
-- and never saved without a job to send it.
CREATE TABLE messages (
    -- A UUID made by the app: it names the message to the provider before the store has it.
    id TEXT PRIMARY KEY,
    case_number BIGINT NOT NULL REFERENCES cases (number),
    direction TEXT NOT NULL CHECK (direction IN ('outbound', 'inbound')),
    channel TEXT NOT NULL,
    to_address TEXT,
    from_address TEXT,
    subject TEXT,
    body TEXT NOT NULL,
    template TEXT,
    author TEXT NOT NULL,
    status TEXT NOT NULL,
    provider_id TEXT,
    -- Which sender took it (`notify`, `smtp`, `dev`): the dev outbox lists the dev sender's.
    sender TEXT,
    error TEXT,
    created_at TIMESTAMPTZ NOT NULL,
    status_at TIMESTAMPTZ NOT NULL
);

CREATE INDEX messages_case ON messages (case_number, created_at);
-- Delivery receipts find their message by the provider's id.
CREATE UNIQUE INDEX messages_provider ON messages (provider_id) WHERE provider_id IS NOT NULL;
CREATE INDEX messages_sender ON messages (sender, status_at) WHERE sender IS NOT NULL;
