-- Mentions: one row per (message, tracking number) for every message that names a
-- stored number — what that message says about the parcel, when it was sent, and
-- whether it named the number only inside the history it quotes. `tracking_numbers`
-- keeps one row per number per conversation (the find: carrier, source, snippet);
-- this is the parcel's history, and `shipments` is kept from it by the same writer.

CREATE TABLE frontscan.mentions (
    message_id         text NOT NULL REFERENCES frontscan.messages (id),
    tracking_number    text NOT NULL,
    conversation_id    text NOT NULL REFERENCES frontscan.conversations (id),
    carrier            text NOT NULL,
    stated_at          timestamptz NOT NULL,   -- the message's sending time
    status             text NOT NULL DEFAULT 'unknown'
                       CHECK (status IN ('label_created', 'in_transit', 'out_for_delivery',
                              'delivered', 'exception', 'returned', 'unknown')),
    expected_delivery  date,
    order_reference    text,
    direction          text CHECK (direction IS NULL OR direction IN ('inbound', 'outbound')),
    quoted             boolean NOT NULL DEFAULT false,  -- only in the quoted history
    run_id             bigint REFERENCES frontscan.runs (id),
    recorded_at        timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (message_id, tracking_number)
);
-- A parcel's history, oldest first: `WHERE tracking_number = $1 ORDER BY stated_at`.
CREATE INDEX mentions_history_idx ON frontscan.mentions (tracking_number, stated_at);
-- Everything an order's mails said: `WHERE order_reference = $1`.
CREATE INDEX mentions_order_idx ON frontscan.mentions (order_reference)
    WHERE order_reference IS NOT NULL;
CREATE INDEX mentions_conversation_idx ON frontscan.mentions (conversation_id);

-- Ledgers written before this migration: every stored number is the mention of the
-- message it was stored at, with what that message said (007's columns).
INSERT INTO frontscan.mentions
    (message_id, tracking_number, conversation_id, carrier, stated_at, status,
     expected_delivery, order_reference, direction, run_id, recorded_at)
SELECT t.message_id, t.tracking_number, t.conversation_id, t.carrier,
       COALESCE(m.created_at, t.first_seen_at), t.status, t.expected_delivery,
       t.order_reference, t.direction, t.run_id, t.first_seen_at
FROM frontscan.tracking_numbers t
LEFT JOIN frontscan.messages m ON m.id = t.message_id
ON CONFLICT (message_id, tracking_number) DO NOTHING;

-- A later mail that moved a parcel on left only its status in `shipments`: it becomes a
-- mention too, so each parcel's history ends with its latest word. What else that mail
-- said (order reference, expected date, direction) was not kept and stays NULL.
INSERT INTO frontscan.mentions
    (message_id, tracking_number, conversation_id, carrier, stated_at, status)
SELECT s.status_message_id, s.tracking_number, m.conversation_id, s.carrier, s.status_at,
       s.status
FROM frontscan.shipments s
JOIN frontscan.messages m ON m.id = s.status_message_id
WHERE s.status_at IS NOT NULL
ON CONFLICT (message_id, tracking_number) DO NOTHING;
