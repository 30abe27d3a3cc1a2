-- Every RunStats counter has a column of the same name, so a run row, `scan --json` and
-- `status --json` use one vocabulary (001 had the conversation and API call counters).

ALTER TABLE frontscan.runs
    ADD COLUMN llm_dropped        integer NOT NULL DEFAULT 0,
    ADD COLUMN batches            integer NOT NULL DEFAULT 0,
    ADD COLUMN rate_limited       integer NOT NULL DEFAULT 0,
    ADD COLUMN throttled_seconds  double precision NOT NULL DEFAULT 0;
