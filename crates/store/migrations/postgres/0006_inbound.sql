-- Replies from residents: the whole text of an inbound message beside the trimmed one staff
-- read, attachments, the messages no case could be found for, texts opting out, and which
-- replies each member of staff has read.

-- The whole message as it came (quoted history and signature included); `body` holds the
-- reply as staff read it.
ALTER TABLE messages ADD COLUMN original TEXT;
-- The SHA-256 of the token in an outbound email's reply address (`reply+TOKEN@...`): a reply
-- to that address finds its case. The token itself is never stored.
ALTER TABLE messages ADD COLUMN reply_token_hash TEXT;
CREATE UNIQUE INDEX messages_reply_token ON messages (reply_token_hash)
    WHERE reply_token_hash IS NOT NULL;
-- The worktray's unread replies start from the replies, which are few beside the cases.
CREATE INDEX messages_inbound ON messages (created_at, case_number) WHERE direction = 'inbound';

-- A reply is matched to a case by the resident's number or address.
CREATE INDEX cases_contact_phone ON cases (contact_phone) WHERE contact_phone IS NOT NULL;
CREATE INDEX cases_contact_email ON cases (contact_email) WHERE contact_email IS NOT NULL;

-- Files that came with an inbound email, within the size and type limits. Keyed by the
-- message's id, which a message waiting for matching keeps when staff file it on a case.
CREATE TABLE message_attachments (
    message_id TEXT NOT NULL,
    position INTEGER NOT NULL,
    filename TEXT NOT NULL,
    content_type TEXT NOT NULL,
    size BIGINT NOT NULL,
    content BYTEA NOT NULL,
    PRIMARY KEY (message_id, position)
);

-- Inbound messages that no case could be chosen for: staff file each on a case. Nothing a
-- resident sends is dropped.
CREATE TABLE unmatched_messages (
    id TEXT PRIMARY KEY,
    channel TEXT NOT NULL,
    from_address TEXT NOT NULL,
    to_address TEXT,
    subject TEXT,
    body TEXT NOT NULL,
    original TEXT,
    provider_id TEXT,
    -- Why no case was chosen, in words for staff.
    reason TEXT NOT NULL,
    received_at TIMESTAMPTZ NOT NULL,
    filed_case BIGINT REFERENCES cases (number),
    filed_by TEXT,
    filed_at TIMESTAMPTZ
);

CREATE UNIQUE INDEX unmatched_messages_provider ON unmatched_messages (provider_id)
    WHERE provider_id IS NOT NULL;
CREATE INDEX unmatched_messages_waiting ON unmatched_messages (received_at) WHERE filed_at IS NULL;

-- Numbers that texted STOP: no text is sent to them until they text START. Numbers are in
-- international form (`+447700900123`).
CREATE TABLE sms_opt_outs (
    phone TEXT PRIMARY KEY,
    opted_out_at TIMESTAMPTZ NOT NULL
);

-- How far each member of staff has read each case's replies.
CREATE TABLE message_reads (
    reader TEXT NOT NULL,
    case_number BIGINT NOT NULL REFERENCES cases (number),
    read_up_to TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (reader, case_number)
);
