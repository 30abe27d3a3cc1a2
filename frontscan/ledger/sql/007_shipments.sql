-- Shipments: what each mention says about its parcel, and one row per parcel with the
-- latest word on it. Existing rows keep everything; their new fields read "unknown".

ALTER TABLE frontscan.tracking_numbers
    ADD COLUMN status            text NOT NULL DEFAULT 'unknown',
    ADD COLUMN expected_delivery date,
    ADD COLUMN order_reference   text,
    ADD COLUMN direction         text;
ALTER TABLE frontscan.tracking_numbers
    ADD CONSTRAINT tracking_numbers_status_check CHECK (status IN ('label_created',
        'in_transit', 'out_for_delivery', 'delivered', 'exception', 'returned', 'unknown')),
    ADD CONSTRAINT tracking_numbers_direction_check
        CHECK (direction IS NULL OR direction IN ('inbound', 'outbound'));

-- Model statements (status, order reference, expected date) their message did not back:
-- a RunStats counter, so a column of the same name (see 002).
ALTER TABLE frontscan.runs ADD COLUMN claims_dropped integer NOT NULL DEFAULT 0;

-- The ordering rule (frontscan/shipment/progress.py says why; a test keeps the two equal):
-- a status moves forward or to an exception, an exception only on to a new delivery
-- attempt or an end state, and a statement older than the current one never moves it.
CREATE FUNCTION frontscan.status_rank(status text) RETURNS integer
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT CASE status WHEN 'label_created' THEN 1 WHEN 'in_transit' THEN 2
        WHEN 'out_for_delivery' THEN 3 WHEN 'delivered' THEN 4 WHEN 'returned' THEN 5
        ELSE 0 END
$$;

CREATE FUNCTION frontscan.status_advances(
    current text, current_at timestamptz, new text, new_at timestamptz
) RETURNS boolean
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT CASE
        WHEN new = 'unknown' OR new = current THEN false
        WHEN current = 'unknown' THEN true
        WHEN new_at < current_at OR current = 'returned' THEN false
        WHEN new = 'exception' THEN true
        WHEN current = 'exception' THEN frontscan.status_rank(new) >= 3
        ELSE frontscan.status_rank(new) > frontscan.status_rank(current)
    END
$$;

CREATE TABLE frontscan.shipments (
    tracking_number         text PRIMARY KEY,
    carrier                 text NOT NULL,
    first_seen_at           timestamptz NOT NULL,  -- sending time of the first mention
    first_message_id        text NOT NULL,
    last_mentioned_at       timestamptz NOT NULL,  -- sending time of the newest mention
    status                  text NOT NULL DEFAULT 'unknown'
                            CHECK (status IN ('label_created', 'in_transit', 'out_for_delivery',
                                   'delivered', 'exception', 'returned', 'unknown')),
    status_at               timestamptz,           -- sending time of the message that said it
    status_message_id       text,
    status_conversation_id  text,
    expected_delivery       date,
    expected_delivery_at    timestamptz,           -- when the newest expected date was stated
    order_references        text[] NOT NULL DEFAULT '{}',
    conversation_ids        text[] NOT NULL DEFAULT '{}',
    updated_at              timestamptz NOT NULL DEFAULT now()
);
-- "What is the latest on order W123456?" is `order_references @> ARRAY['W123456']`.
CREATE INDEX shipments_order_references_idx ON frontscan.shipments USING gin (order_references);
CREATE INDEX shipments_status_at_idx ON frontscan.shipments (status_at);
CREATE INDEX shipments_last_mentioned_idx ON frontscan.shipments (last_mentioned_at);

-- Parcels already in the ledger: one row each, from their mentions, status unknown.
INSERT INTO frontscan.shipments
    (tracking_number, carrier, first_seen_at, first_message_id, last_mentioned_at,
     conversation_ids)
SELECT u.tracking_number,
       (array_agg(u.carrier ORDER BY u.at, u.message_id))[1],
       min(u.at),
       (array_agg(u.message_id ORDER BY u.at, u.message_id))[1],
       max(u.at),
       array_agg(DISTINCT u.conversation_id ORDER BY u.conversation_id)
FROM (SELECT t.tracking_number, t.carrier, t.message_id, t.conversation_id,
             COALESCE(m.created_at, t.first_seen_at) AS at
      FROM frontscan.tracking_numbers t
      LEFT JOIN frontscan.messages m ON m.id = t.message_id) AS u
GROUP BY u.tracking_number;
