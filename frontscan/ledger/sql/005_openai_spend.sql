-- What a run spent on OpenAI beyond calls and tokens (issue 11): conversations the
-- detector was sure of (no call), the completion budget asked for, and the tokens the
-- server charged against TPM as its own headers told (NULL when it sent none).
ALTER TABLE frontscan.runs
    ADD COLUMN model_calls_avoided integer NOT NULL DEFAULT 0,
    ADD COLUMN completion_budget bigint NOT NULL DEFAULT 0,
    ADD COLUMN server_tokens bigint;
