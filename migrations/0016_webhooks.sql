-- Webhooks and the events outbox (API.md "events, limits, retries").
--
-- An event is a row of `events`, inserted by the very statement (a CTE, or a
-- trigger it fires) that makes the change it reports, so it commits or rolls
-- back with that change: a rolled-back grant leaves no event.
--
-- Numbering. `id` (an identity) is only the row's identity: identities are
-- handed out at insert and their transactions commit in any order, so a
-- reader of "id > N" could pass over an id that commits later. The public
-- event_id is `seq`, given at publication: licd_publish_events() takes a
-- transaction-scoped advisory lock and numbers the committed, unnumbered
-- events from event_seq. Publishers therefore run one after another and a
-- publication commits before the next one numbers anything, so every event
-- numbered later gets a higher seq, and whenever a reader sees seq N it also
-- sees every published seq below N: "seq > N" never skips one. Grants stay
-- as fast as before: they take no lock and pay one small insert (measured in
-- tests/bench, README "Webhooks and events"). Events are published by the
-- delivery threads of every node (a short poll) and by GET /v1/events before
-- it reads.
--
-- Retention: the maintenance thread deletes events older than
-- LICD_EVENT_RETENTION (default 7 days) that no active webhook still has to
-- deliver.
CREATE SEQUENCE event_seq;
CREATE TABLE events (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    seq         bigint,                    -- event_id; NULL until published
    -- No foreign key: the check would lock the vendor's row on every grant.
    vendor_id   uuid NOT NULL,
    type        text NOT NULL CHECK (type IN ('license.granted', 'license.temporary',
                    'seat.denied', 'clone.detected', 'usage.over_limit', 'pack.low',
                    'lease.lapsed')),
    data        jsonb NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX events_unpublished ON events (id) WHERE seq IS NULL;
CREATE UNIQUE INDEX events_by_vendor ON events (vendor_id, seq) WHERE seq IS NOT NULL;

-- Numbers up to batch committed events in the order they were inserted and
-- returns how many. wait: block on a concurrent publisher (GET /v1/events,
-- which must see what committed before it) or give up at once (the delivery
-- threads, which come back soon).
CREATE FUNCTION licd_publish_events(wait boolean, batch integer) RETURNS bigint
LANGUAGE plpgsql AS $$
DECLARE
    n bigint;
BEGIN
    IF wait THEN
        PERFORM pg_advisory_xact_lock(4242001);
    ELSIF NOT pg_try_advisory_xact_lock(4242001) THEN
        RETURN 0;
    END IF;
    UPDATE events e SET seq = p.seq
      FROM (SELECT q.id, nextval('event_seq') AS seq
              FROM (SELECT id FROM events WHERE seq IS NULL ORDER BY id LIMIT batch) q
             ORDER BY q.id) p
     WHERE e.id = p.id;
    GET DIAGNOSTICS n = ROW_COUNT;
    RETURN n;
END $$;

-- A vendor's webhook. delivered_seq is its cursor: every event up to it has
-- been delivered (or came before the webhook). One delivery thread of one
-- node at a time holds it (claim, claimed_until), so its events go out one
-- after another in seq order. failures counts the attempts that failed since
-- the last success; failing_since is when that run began: after
-- LICD_WEBHOOK_DEAD_AFTER of it the webhook is dead and is no longer tried.
CREATE TABLE webhooks (
    id              uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    seq             bigint GENERATED ALWAYS AS IDENTITY,
    vendor_id       uuid NOT NULL REFERENCES vendors(id) ON DELETE CASCADE,
    url             text NOT NULL CHECK (length(url) BETWEEN 1 AND 2048),
    events          text[] NOT NULL CHECK (cardinality(events) >= 1),
    secret          text NOT NULL,
    state           text NOT NULL DEFAULT 'active' CHECK (state IN ('active', 'dead')),
    delivered_seq   bigint NOT NULL,
    last_status     integer,               -- HTTP status of the last attempt, 0: no answer
    last_error      text,
    last_attempt_at timestamptz,
    failures        integer NOT NULL DEFAULT 0,
    failing_since   timestamptz,
    next_attempt_at timestamptz NOT NULL DEFAULT now(),
    claim           uuid,
    claimed_until   timestamptz,
    created_at      timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX webhooks_vendor_seq ON webhooks (vendor_id, seq);
CREATE INDEX webhooks_due ON webhooks (next_attempt_at) WHERE state = 'active';

-- pack.low: the update that brings a pack to 90 % of its seats in use (a
-- grant, a checkout, an allocation, or a lower quantity). The WHEN clause
-- keeps every other update of a pack free of the trigger's cost.
CREATE FUNCTION licd_pack_low() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO events (vendor_id, type, data)
    VALUES (NEW.vendor_id, 'pack.low', jsonb_build_object('pack_id', NEW.pack_id,
            'quantity', NEW.quantity, 'assigned', NEW.assigned));
    RETURN NULL;
END $$;
CREATE TRIGGER packs_low AFTER UPDATE OF assigned, quantity ON packs
    FOR EACH ROW
    WHEN (NEW.assigned::bigint * 10 >= NEW.quantity::bigint * 9
          AND OLD.assigned::bigint * 10 < OLD.quantity::bigint * 9)
    EXECUTE FUNCTION licd_pack_low();
