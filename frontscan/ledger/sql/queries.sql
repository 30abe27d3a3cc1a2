-- Named queries of the ledger, loaded by store.py. Positional %s parameters (psycopg).
-- Each block starts with a `-- name:` line.

-- name: upsert_conversations
INSERT INTO frontscan.conversations AS c
    (id, subject, last_message_id, last_activity_at, scanned_through, status, attempts,
     last_error, last_run_id)
SELECT u.id, u.subject, u.last_message_id, to_timestamp(u.activity), to_timestamp(u.through),
       u.status, CASE WHEN u.status = 'failed' THEN 1 ELSE 0 END, u.error, %s
FROM unnest(%s::text[], %s::text[], %s::text[], %s::float8[], %s::float8[], %s::text[], %s::text[])
     AS u(id, subject, last_message_id, activity, through, status, error)
ON CONFLICT (id) DO UPDATE SET
    subject = EXCLUDED.subject,
    last_message_id = CASE WHEN EXCLUDED.status = 'done'
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
     message_id, snippet, run_id)
SELECT u.number, u.carrier, u.format, u.checksum_valid, u.source, u.confidence,
       u.conversation_id, u.message_id, u.snippet, %s
FROM unnest(%s::text[], %s::text[], %s::text[], %s::bool[], %s::text[], %s::float4[],
            %s::text[], %s::text[], %s::text[])
     AS u(number, carrier, format, checksum_valid, source, confidence, conversation_id,
          message_id, snippet)
WHERE NOT EXISTS (
    SELECT 1 FROM frontscan.tracking_numbers t
    WHERE t.conversation_id = u.conversation_id AND t.tracking_number = u.number)
ON CONFLICT (message_id, tracking_number) DO NOTHING
RETURNING id;

-- name: known_messages
-- Which of these messages the ledger already holds (the event source skips them).
SELECT id FROM frontscan.messages WHERE id = ANY(%s);
