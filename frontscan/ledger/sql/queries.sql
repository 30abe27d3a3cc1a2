-- Named queries of the ledger, loaded by store.py. Positional %s parameters (psycopg).
-- Each block starts with a `-- name:` line.

-- name: upsert_conversations
-- The last message id only moves with the watermark: an older window scanned later
-- (a backfill through the event stream) must not make a newer conversation look changed.
INSERT INTO frontscan.conversations AS c
    (id, subject, last_message_id, last_activity_at, scanned_through, status, attempts,
     last_error, last_run_id)
SELECT u.id, u.subject, u.last_message_id, to_timestamp(u.activity), to_timestamp(u.through),
       u.status, CASE WHEN u.status = 'failed' THEN 1 ELSE 0 END, u.error, %s
FROM unnest(%s::text[], %s::text[], %s::text[], %s::float8[], %s::float8[], %s::text[], %s::text[])
     AS u(id, subject, last_message_id, activity, through, status, error)
ON CONFLICT (id) DO UPDATE SET
    subject = EXCLUDED.subject,
    last_message_id = CASE WHEN EXCLUDED.status = 'done' AND (c.scanned_through IS NULL
            OR EXCLUDED.scanned_through IS NULL OR EXCLUDED.scanned_through >= c.scanned_through)
        THEN COALESCE(EXCLUDED.last_message_id, c.last_message_id) ELSE c.last_message_id END,
    last_activity_at = COALESCE(EXCLUDED.last_activity_at, c.last_activity_at),
    scanned_through = CASE WHEN EXCLUDED.status = 'done'
        THEN GREATEST(c.scanned_through, EXCLUDED.scanned_through) ELSE c.scanned_through END,
    status = EXCLUDED.status,
    attempts = CASE WHEN EXCLUDED.status = 'failed' THEN c.attempts + 1 ELSE 0 END,
    last_error = EXCLUDED.last_error,
    updated_at = now(),
    last_run_id = EXCLUDED.last_run_id;

-- name: upsert_messages
INSERT INTO frontscan.messages AS m
    (id, conversation_id, created_at, content_hash, extractor_version, status)
SELECT u.id, u.conversation_id, to_timestamp(u.created_at), u.content_hash, u.version, u.status
FROM unnest(%s::text[], %s::text[], %s::float8[], %s::text[], %s::text[], %s::text[])
     AS u(id, conversation_id, created_at, content_hash, version, status)
ON CONFLICT (id) DO UPDATE SET
    content_hash = EXCLUDED.content_hash,
    extractor_version = EXCLUDED.extractor_version,
    status = EXCLUDED.status,
    attempts = m.attempts + 1,
    processed_at = now();

-- name: insert_numbers
-- A number already stored for an earlier message of the same conversation (a quoted
-- repeat) is not stored again: it belongs to the message where it first appeared.
INSERT INTO frontscan.tracking_numbers
    (tracking_number, carrier, format, checksum_valid, source, confidence, conversation_id,
     message_id, snippet, status, expected_delivery, order_reference, direction, run_id)
SELECT u.number, u.carrier, u.format, u.checksum_valid, u.source, u.confidence,
       u.conversation_id, u.message_id, u.snippet, u.status, u.expected_delivery,
       u.order_reference, u.direction, %s
FROM unnest(%s::text[], %s::text[], %s::text[], %s::bool[], %s::text[], %s::float4[],
            %s::text[], %s::text[], %s::text[], %s::text[], %s::date[], %s::text[], %s::text[])
     AS u(number, carrier, format, checksum_valid, source, confidence, conversation_id,
          message_id, snippet, status, expected_delivery, order_reference, direction)
WHERE NOT EXISTS (
    SELECT 1 FROM frontscan.tracking_numbers t
    WHERE t.conversation_id = u.conversation_id AND t.tracking_number = u.number)
ON CONFLICT (message_id, tracking_number) DO NOTHING
RETURNING id;

-- name: migration_lock
-- Two processes migrating at once wait for each other instead of failing.
SELECT pg_advisory_xact_lock(%s);

-- name: create_schema
CREATE SCHEMA IF NOT EXISTS frontscan;

-- name: create_schema_version
CREATE TABLE IF NOT EXISTS frontscan.schema_version (
    version integer PRIMARY KEY,
    name text NOT NULL,
    applied_at timestamptz NOT NULL DEFAULT now());

-- name: applied_versions
SELECT version FROM frontscan.schema_version;

-- name: record_version
INSERT INTO frontscan.schema_version (version, name) VALUES (%s, %s);

-- name: try_scan_lock
SELECT pg_try_advisory_lock(%s);

-- name: scan_unlock
SELECT pg_advisory_unlock(%s);

-- name: holds_scan_lock
SELECT count(*) > 0 FROM pg_locks
WHERE locktype = 'advisory' AND granted AND pid = pg_backend_pid()
  AND classid = 0 AND objid = %s AND objsubid = 1;

-- name: ledger_for
-- The last column: [number, carrier] pairs stored for the conversation (its index).
SELECT c.id, extract(epoch FROM c.scanned_through)::float8, c.last_message_id, c.status,
       c.attempts,
       ARRAY(SELECT ARRAY[t.tracking_number, t.carrier] FROM frontscan.tracking_numbers t
             WHERE t.conversation_id = c.id ORDER BY t.id)
FROM frontscan.conversations c WHERE c.id = ANY(%s);

-- name: failed_refs
SELECT id, subject FROM frontscan.conversations WHERE status = 'failed' ORDER BY id;

-- name: start_run
INSERT INTO frontscan.runs (window_after, window_before, options)
VALUES (to_timestamp(%s), to_timestamp(%s), %s) RETURNING id;

-- name: run_progress
UPDATE frontscan.runs SET conversations_scanned = conversations_scanned + %s,
    conversations_failed = conversations_failed + %s,
    messages_processed = messages_processed + %s, numbers_found = numbers_found + %s
WHERE id = %s;

-- name: claim_commit_key
INSERT INTO frontscan.commit_keys (key, run_id) VALUES (%s, %s)
ON CONFLICT (key) DO NOTHING RETURNING key;

-- name: committed_numbers
SELECT numbers FROM frontscan.commit_keys WHERE key = %s;

-- name: commit_key_numbers
UPDATE frontscan.commit_keys SET numbers = %s WHERE key = %s;

-- name: forget_commit_keys
DELETE FROM frontscan.commit_keys
WHERE run_id = %s OR committed_at < now() - interval '1 day';

-- name: finish_run
UPDATE frontscan.runs SET finished_at = now(), status = %s,
    conversations_seen = %s, conversations_scanned = %s, conversations_skipped = %s,
    conversations_failed = %s, messages_processed = %s, numbers_found = %s, llm_dropped = %s,
    claims_dropped = %s, batches = %s, front_calls = %s, openai_calls = %s,
    prompt_tokens = %s, completion_tokens = %s, rate_limited = %s, throttled_seconds = %s,
    model_calls_avoided = %s, completion_budget = %s, server_tokens = %s, cost_usd = %s,
    error = %s,
    options = options || jsonb_build_object('advances_watermark',
        coalesce((options ->> 'advances_watermark')::boolean, false) AND %s::boolean)
WHERE id = %s;

-- name: forget_numbers
DELETE FROM frontscan.tracking_numbers WHERE conversation_id = ANY(%s);

-- name: forget_messages
DELETE FROM frontscan.messages WHERE conversation_id = ANY(%s);

-- name: forget_conversations
DELETE FROM frontscan.conversations WHERE id = ANY(%s);

-- name: close_stale_runs
UPDATE frontscan.runs SET status = 'interrupted', finished_at = now(),
    error = 'the process ended without closing the run'
WHERE status = 'running';

-- name: last_completed_run_start
SELECT extract(epoch FROM max(started_at))::float8 FROM frontscan.runs
WHERE status IN ('succeeded', 'partial') AND (options ->> 'advances_watermark')::boolean;

-- name: recent_runs
SELECT id, extract(epoch FROM started_at)::float8 AS started_at,
       extract(epoch FROM finished_at)::float8 AS finished_at, status,
       extract(epoch FROM window_after)::float8 AS window_after,
       extract(epoch FROM window_before)::float8 AS window_before,
       conversations_seen, conversations_scanned, conversations_skipped,
       conversations_failed, messages_processed, numbers_found, llm_dropped, claims_dropped,
       batches,
       front_calls, openai_calls, prompt_tokens, completion_tokens, rate_limited,
       throttled_seconds, model_calls_avoided, completion_budget, server_tokens,
       cost_usd::float8 AS cost_usd, error
FROM frontscan.runs ORDER BY id DESC LIMIT %s;

-- name: totals
SELECT count(*) AS conversations, (SELECT count(*) FROM frontscan.messages) AS messages,
       (SELECT count(*) FROM frontscan.tracking_numbers) AS tracking_numbers,
       count(*) FILTER (WHERE status = 'failed') AS failed_conversations
FROM frontscan.conversations;

-- name: numbers_by_carrier
SELECT carrier, count(*) AS numbers FROM frontscan.tracking_numbers
GROUP BY carrier ORDER BY count(*) DESC, carrier;

-- name: failed_shown
SELECT id, subject, attempts, last_error, extract(epoch FROM updated_at)::float8 AS updated_at
FROM frontscan.conversations WHERE status = 'failed' ORDER BY updated_at DESC, id LIMIT %s;

-- name: numbers_of_runs
SELECT conversation_id, message_id, tracking_number, carrier, source
FROM frontscan.tracking_numbers WHERE run_id = ANY(%s) ORDER BY carrier, tracking_number;

-- name: export_numbers
-- A NULL filter matches everything; PostgreSQL plans each execution with its actual
-- values, so the NULL tests fold away. `after` is inclusive and `before` exclusive.
-- Times stay aware datetimes (exact microseconds) for the export's ISO strings.
SELECT t.id, t.tracking_number, t.carrier, t.format, t.checksum_valid, t.source,
       t.confidence, t.conversation_id, t.message_id, m.created_at AS message_created_at,
       t.first_seen_at, t.snippet, t.status, t.expected_delivery, t.order_reference,
       t.direction, s.status AS latest_status
FROM frontscan.tracking_numbers t
LEFT JOIN frontscan.messages m ON m.id = t.message_id
LEFT JOIN frontscan.shipments s ON s.tracking_number = t.tracking_number
WHERE (%(after)s::float8 IS NULL OR t.first_seen_at >= to_timestamp(%(after)s::float8))
  AND (%(before)s::float8 IS NULL OR t.first_seen_at < to_timestamp(%(before)s::float8))
  AND (%(carrier)s::text IS NULL OR t.carrier = %(carrier)s::text)
ORDER BY t.first_seen_at, t.id;

-- name: upsert_shipment
-- One mention, applied to its parcel's row; the writer sends a batch's mentions oldest
-- first. The status moves only as `frontscan.status_advances` allows (migration 007); the
-- expected date is the newest one stated; order references and conversations accumulate.
WITH v AS (
    SELECT %s::text AS number, %s::text AS carrier, %s::text AS conversation_id,
           %s::text AS message_id, to_timestamp(%s::float8) AS at, %s::text AS status,
           %s::date AS expected_delivery, %s::text AS order_reference)
INSERT INTO frontscan.shipments AS s
    (tracking_number, carrier, first_seen_at, first_message_id, last_mentioned_at, status,
     status_at, status_message_id, status_conversation_id, expected_delivery,
     expected_delivery_at, order_references, conversation_ids)
SELECT v.number, v.carrier, v.at, v.message_id, v.at, v.status,
       CASE WHEN v.status <> 'unknown' THEN v.at END,
       CASE WHEN v.status <> 'unknown' THEN v.message_id END,
       CASE WHEN v.status <> 'unknown' THEN v.conversation_id END,
       v.expected_delivery, CASE WHEN v.expected_delivery IS NOT NULL THEN v.at END,
       CASE WHEN v.order_reference IS NULL THEN '{}'::text[] ELSE ARRAY[v.order_reference] END,
       ARRAY[v.conversation_id]
FROM v
ON CONFLICT (tracking_number) DO UPDATE SET
    carrier = CASE WHEN EXCLUDED.first_seen_at < s.first_seen_at
        THEN EXCLUDED.carrier ELSE s.carrier END,
    first_message_id = CASE WHEN EXCLUDED.first_seen_at < s.first_seen_at
        THEN EXCLUDED.first_message_id ELSE s.first_message_id END,
    first_seen_at = LEAST(s.first_seen_at, EXCLUDED.first_seen_at),
    last_mentioned_at = GREATEST(s.last_mentioned_at, EXCLUDED.last_mentioned_at),
    status = CASE WHEN frontscan.status_advances(s.status, s.status_at, EXCLUDED.status,
                                                 EXCLUDED.status_at)
        THEN EXCLUDED.status ELSE s.status END,
    status_at = CASE WHEN frontscan.status_advances(s.status, s.status_at, EXCLUDED.status,
                                                    EXCLUDED.status_at)
        THEN EXCLUDED.status_at ELSE s.status_at END,
    status_message_id = CASE WHEN frontscan.status_advances(s.status, s.status_at,
                                                            EXCLUDED.status, EXCLUDED.status_at)
        THEN EXCLUDED.status_message_id ELSE s.status_message_id END,
    status_conversation_id = CASE WHEN frontscan.status_advances(s.status, s.status_at,
                                                                 EXCLUDED.status,
                                                                 EXCLUDED.status_at)
        THEN EXCLUDED.status_conversation_id ELSE s.status_conversation_id END,
    expected_delivery = CASE WHEN EXCLUDED.expected_delivery IS NOT NULL
            AND (s.expected_delivery_at IS NULL
                 OR EXCLUDED.expected_delivery_at >= s.expected_delivery_at)
        THEN EXCLUDED.expected_delivery ELSE s.expected_delivery END,
    expected_delivery_at = CASE WHEN EXCLUDED.expected_delivery IS NOT NULL
            AND (s.expected_delivery_at IS NULL
                 OR EXCLUDED.expected_delivery_at >= s.expected_delivery_at)
        THEN EXCLUDED.expected_delivery_at ELSE s.expected_delivery_at END,
    order_references = ARRAY(SELECT DISTINCT r FROM unnest(s.order_references
        || EXCLUDED.order_references) AS r ORDER BY r),
    conversation_ids = ARRAY(SELECT DISTINCT c FROM unnest(s.conversation_ids
        || EXCLUDED.conversation_ids) AS c ORDER BY c),
    updated_at = now();

-- name: shipments
-- A NULL filter matches everything. `stale_days`: parcels not yet delivered or returned
-- that no message has mentioned for that many days. `order` goes through the GIN index.
SELECT tracking_number, carrier, first_seen_at, last_mentioned_at, status, status_at,
       status_message_id, status_conversation_id, expected_delivery, order_references,
       conversation_ids
FROM frontscan.shipments
WHERE (%(status)s::text IS NULL OR status = %(status)s::text)
  AND (%(carrier)s::text IS NULL OR carrier = %(carrier)s::text)
  AND (%(since)s::float8 IS NULL OR last_mentioned_at >= to_timestamp(%(since)s::float8))
  AND (%(stale_days)s::float8 IS NULL
       OR (last_mentioned_at < now() - make_interval(secs => %(stale_days)s::float8 * 86400)
           AND status NOT IN ('delivered', 'returned')))
  AND (%(order)s::text IS NULL OR order_references @> ARRAY[%(order)s::text])
ORDER BY last_mentioned_at DESC, tracking_number;

-- name: shipments_today
-- Parcels whose latest status was stated today (UTC), by status and carrier.
SELECT status, carrier, count(*) AS parcels
FROM frontscan.shipments
WHERE status_at >= date_trunc('day', now() AT TIME ZONE 'UTC') AT TIME ZONE 'UTC'
GROUP BY status, carrier
ORDER BY status, count(*) DESC, carrier;

-- name: forget_shipments
DELETE FROM frontscan.shipments WHERE conversation_ids && %s::text[];

-- name: batch_insert
INSERT INTO frontscan.batches
    (input_file_id, run_id, model, requests, estimated_usd, estimated_tokens)
VALUES (%s, %s, %s, %s, %s, %s)
RETURNING id;

-- name: batch_requests_insert
INSERT INTO frontscan.batch_requests
    (batch_id, custom_id, conversation_id, subject, last_message_id, last_activity_at, messages)
SELECT %s, u.custom_id, u.conversation_id, u.subject, u.last_message_id, u.activity,
       u.messages::jsonb
FROM unnest(%s::text[], %s::text[], %s::text[], %s::text[], %s::float8[], %s::text[])
     AS u(custom_id, conversation_id, subject, last_message_id, activity, messages);

-- name: batch_set_remote
UPDATE frontscan.batches SET openai_batch_id = %s, status = %s, checked_at = now()
WHERE id = %s;

-- name: batch_set_status
UPDATE frontscan.batches SET status = %s, error = %s, checked_at = now()
WHERE id = %s AND collected_at IS NULL;

-- name: batches_open
SELECT id, openai_batch_id, input_file_id, model, status, requests,
       estimated_usd::float8 AS estimated_usd, estimated_tokens,
       extract(epoch FROM submitted_at)::float8 AS submitted_at
FROM frontscan.batches WHERE collected_at IS NULL ORDER BY id;

-- name: batches_recent
SELECT id, openai_batch_id, model, status, requests, answered, returned,
       prompt_tokens, completion_tokens, cost_usd::float8 AS cost_usd,
       estimated_usd::float8 AS estimated_usd,
       extract(epoch FROM submitted_at)::float8 AS submitted_at,
       extract(epoch FROM collected_at)::float8 AS collected_at, error
FROM frontscan.batches ORDER BY id DESC LIMIT %s;

-- name: batch_totals
SELECT count(*) AS batches,
       count(*) FILTER (WHERE collected_at IS NULL) AS open_batches,
       (SELECT count(*) FROM frontscan.batch_requests WHERE state = 'waiting') AS waiting,
       COALESCE(sum(answered), 0)::bigint AS answered,
       COALESCE(sum(returned), 0)::bigint AS returned,
       COALESCE(sum(cost_usd), 0)::float8 AS cost_usd
FROM frontscan.batches;

-- name: batch_requests_waiting
SELECT custom_id, conversation_id, subject, last_message_id, last_activity_at, messages
FROM frontscan.batch_requests WHERE batch_id = %s AND state = 'waiting' ORDER BY custom_id;

-- name: batch_claim
-- The first statement of a collection's transaction: it locks the batch row, so a
-- concurrent collector waits and then finds it collected (no row) and adds nothing.
UPDATE frontscan.batches
SET collected_at = now(), status = %s, answered = %s, returned = %s, prompt_tokens = %s,
    completion_tokens = %s, cost_usd = %s, error = %s, checked_at = now()
WHERE id = %s AND collected_at IS NULL
RETURNING id;

-- name: batch_requests_mark
UPDATE frontscan.batch_requests AS r SET state = u.state, error = u.error
FROM unnest(%s::text[], %s::text[], %s::text[]) AS u(custom_id, state, error)
WHERE r.batch_id = %s AND r.custom_id = u.custom_id AND r.state = 'waiting';

-- name: batch_waiting_among
SELECT DISTINCT conversation_id FROM frontscan.batch_requests
WHERE state = 'waiting' AND conversation_id = ANY(%s);

-- name: batch_returned_among
SELECT DISTINCT conversation_id FROM frontscan.batch_requests
WHERE state = 'returned' AND conversation_id = ANY(%s);

-- name: known_messages
-- Which of these messages the ledger already holds (the event source skips them).
SELECT id FROM frontscan.messages WHERE id = ANY(%s);

-- name: upsert_mentions
-- Every (message, number) a batch's messages name, with what the message says (migration
-- 008). A rescan writes what today's rules read; the sending time never changes.
INSERT INTO frontscan.mentions AS x
    (message_id, tracking_number, conversation_id, carrier, stated_at, status,
     expected_delivery, order_reference, direction, quoted, run_id)
SELECT u.message_id, u.number, u.conversation_id, u.carrier, to_timestamp(u.at), u.status,
       u.expected_delivery, u.order_reference, u.direction, u.quoted, %s
FROM unnest(%s::text[], %s::text[], %s::text[], %s::text[], %s::float8[], %s::text[],
            %s::date[], %s::text[], %s::text[], %s::bool[])
     AS u(message_id, number, conversation_id, carrier, at, status, expected_delivery,
          order_reference, direction, quoted)
ON CONFLICT (message_id, tracking_number) DO UPDATE SET
    carrier = EXCLUDED.carrier,
    status = EXCLUDED.status,
    expected_delivery = EXCLUDED.expected_delivery,
    order_reference = EXCLUDED.order_reference,
    direction = EXCLUDED.direction,
    quoted = EXCLUDED.quoted,
    run_id = EXCLUDED.run_id,
    recorded_at = now();

-- name: mention_history
-- One parcel's mentions, oldest first, through `mentions_history_idx`.
SELECT tracking_number, stated_at, status, expected_delivery, order_reference, direction,
       quoted, carrier, conversation_id, message_id
FROM frontscan.mentions
WHERE tracking_number = %(number)s::text
ORDER BY stated_at, message_id;

-- name: forget_mentions
DELETE FROM frontscan.mentions WHERE conversation_id = ANY(%s);
