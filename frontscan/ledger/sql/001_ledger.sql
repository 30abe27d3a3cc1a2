-- The ledger: runs, conversations with their watermark, processed messages, tracking numbers.
-- Front times are stored as timestamptz (Front sends float seconds with millisecond precision).

CREATE TABLE frontscan.runs (
    id                     bigserial PRIMARY KEY,
    started_at             timestamptz NOT NULL DEFAULT now(),
    finished_at            timestamptz,
    status                 text NOT NULL DEFAULT 'running'
                           CHECK (status IN ('running', 'succeeded', 'partial', 'failed', 'interrupted')),
    window_after           timestamptz,
    window_before          timestamptz,
    options                jsonb NOT NULL DEFAULT '{}'::jsonb,
    conversations_seen     integer NOT NULL DEFAULT 0,
    conversations_scanned  integer NOT NULL DEFAULT 0,
    conversations_skipped  integer NOT NULL DEFAULT 0,
    conversations_failed   integer NOT NULL DEFAULT 0,
    messages_processed     integer NOT NULL DEFAULT 0,
    numbers_found          integer NOT NULL DEFAULT 0,
    front_calls            integer NOT NULL DEFAULT 0,
    openai_calls           integer NOT NULL DEFAULT 0,
    prompt_tokens          bigint NOT NULL DEFAULT 0,
    completion_tokens      bigint NOT NULL DEFAULT 0,
    cost_usd               numeric(12, 6) NOT NULL DEFAULT 0,
    error                  text
);

CREATE TABLE frontscan.conversations (
    id               text PRIMARY KEY,
    subject          text NOT NULL DEFAULT '',
    last_message_id  text,
    last_activity_at timestamptz,
    scanned_through  timestamptz,
    status           text NOT NULL CHECK (status IN ('done', 'failed')),
    attempts         integer NOT NULL DEFAULT 0,
    last_error       text,
    first_seen_at    timestamptz NOT NULL DEFAULT now(),
    updated_at       timestamptz NOT NULL DEFAULT now(),
    last_run_id      bigint REFERENCES frontscan.runs (id)
);
CREATE INDEX conversations_failed_idx ON frontscan.conversations (status) WHERE status = 'failed';

CREATE TABLE frontscan.messages (
    id                 text PRIMARY KEY,
    conversation_id    text NOT NULL REFERENCES frontscan.conversations (id),
    created_at         timestamptz NOT NULL,
    content_hash       text NOT NULL,
    extractor_version  text NOT NULL,
    status             text NOT NULL CHECK (status IN ('done', 'failed', 'skipped')),
    attempts           integer NOT NULL DEFAULT 1,
    error              text,
    processed_at       timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX messages_conversation_idx ON frontscan.messages (conversation_id);

CREATE TABLE frontscan.tracking_numbers (
    id               bigserial PRIMARY KEY,
    tracking_number  text NOT NULL,
    carrier          text NOT NULL,
    format           text,
    checksum_valid   boolean,
    source           text NOT NULL CHECK (source IN ('pattern', 'llm', 'both')),
    confidence       real NOT NULL CHECK (confidence >= 0 AND confidence <= 1),
    conversation_id  text NOT NULL REFERENCES frontscan.conversations (id),
    message_id       text NOT NULL REFERENCES frontscan.messages (id),
    snippet          text NOT NULL DEFAULT '',
    first_seen_at    timestamptz NOT NULL DEFAULT now(),
    run_id           bigint REFERENCES frontscan.runs (id),
    UNIQUE (message_id, tracking_number)
);
CREATE INDEX tracking_numbers_conversation_idx
    ON frontscan.tracking_numbers (conversation_id, tracking_number);
CREATE INDEX tracking_numbers_first_seen_idx ON frontscan.tracking_numbers (first_seen_at);
