-- OpenAI Batch API backfills: each submitted batch, and the conversations waiting in it.
-- A batch row exists before `batches.create` is called (keyed by its uploaded input
-- file), so a crash between upload and create is found again and finished.
-- `collected_at` is set in the same transaction as the batch's results.

CREATE TABLE frontscan.batches (
    id                 bigserial PRIMARY KEY,
    openai_batch_id    text UNIQUE,
    input_file_id      text NOT NULL UNIQUE,
    run_id             bigint REFERENCES frontscan.runs (id),
    model              text NOT NULL,
    status             text NOT NULL DEFAULT 'submitting',
    requests           integer NOT NULL CHECK (requests > 0),
    estimated_usd      numeric(12, 6) NOT NULL DEFAULT 0,
    estimated_tokens   bigint NOT NULL DEFAULT 0,
    submitted_at       timestamptz NOT NULL DEFAULT now(),
    checked_at         timestamptz,
    collected_at       timestamptz,
    answered           integer NOT NULL DEFAULT 0,
    returned           integer NOT NULL DEFAULT 0,
    prompt_tokens      bigint NOT NULL DEFAULT 0,
    completion_tokens  bigint NOT NULL DEFAULT 0,
    cost_usd           numeric(12, 6) NOT NULL DEFAULT 0,
    error              text
);
CREATE INDEX batches_open_idx ON frontscan.batches (id) WHERE collected_at IS NULL;

CREATE TABLE frontscan.batch_requests (
    batch_id          bigint NOT NULL REFERENCES frontscan.batches (id),
    custom_id         text NOT NULL,
    conversation_id   text NOT NULL,
    subject           text NOT NULL DEFAULT '',
    last_message_id   text,
    last_activity_at  float8,
    messages          jsonb NOT NULL,
    state             text NOT NULL DEFAULT 'waiting'
                      CHECK (state IN ('waiting', 'answered', 'returned')),
    error             text,
    PRIMARY KEY (batch_id, custom_id)
);
CREATE INDEX batch_requests_waiting_idx
    ON frontscan.batch_requests (conversation_id) WHERE state = 'waiting';
CREATE INDEX batch_requests_returned_idx
    ON frontscan.batch_requests (conversation_id) WHERE state = 'returned';
