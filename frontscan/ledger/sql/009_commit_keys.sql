-- One row per committed batch of outcomes, written in the batch's own transaction (issue
-- 14): a commit whose acknowledgement was lost is retried on a new connection, and the
-- retry finds its key here and changes nothing, so neither the run's counters nor a
-- failed conversation's attempts grow twice. `numbers` is what the first commit stored,
-- for the retry to report. Keys are dropped when their run finishes (or after a day).
CREATE TABLE frontscan.commit_keys (
    key           uuid PRIMARY KEY,
    run_id        bigint REFERENCES frontscan.runs (id) ON DELETE CASCADE,
    numbers       integer NOT NULL DEFAULT 0,
    committed_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX commit_keys_run ON frontscan.commit_keys (run_id);
