-- Floating seats as a counter: a concurrent pack's `assigned` is the number of
-- its live leases (released_at IS NULL), changed in the same statement as the
-- lease row, so no checkout counts leases. A lease that lapses stays live
-- until something releases it (released_at = expires_at): a checkout that
-- finds the pack full, a GET of the pack, or the maintenance thread, each
-- only once the pack's next_lapse_at (a lower bound on the earliest expiry of
-- its live leases) has passed. Heartbeats change only expires_at and
-- heartbeat_at, which no index holds, so they are HOT updates.
ALTER TABLE packs ADD COLUMN next_lapse_at timestamptz;

-- A bigint that increases with every lease: GET /v1/leases pages by it.
ALTER TABLE leases ADD COLUMN seq bigint GENERATED ALWAYS AS IDENTITY;
ALTER TABLE leases SET (fillfactor = 80);

UPDATE leases SET released_at = expires_at WHERE released_at IS NULL AND expires_at <= now();
UPDATE packs k SET assigned = l.live, next_lapse_at = l.next_lapse_at
  FROM (SELECT pack_id, count(*) AS live, min(expires_at) AS next_lapse_at FROM leases
        WHERE released_at IS NULL GROUP BY pack_id) l
  WHERE k.id = l.pack_id AND k.type = 'concurrent';

DROP INDEX leases_in_use;
DROP INDEX leases_expiry;
DROP INDEX leases_by_client;
-- A pack's live leases in list order (reclaiming and listing them).
CREATE INDEX leases_live ON leases (pack_id, seq) WHERE released_at IS NULL;
-- One live lease per client and product, whatever concurrent checkouts do.
CREATE UNIQUE INDEX leases_one_per_client ON leases (customer_id, product_id, client_id)
    WHERE released_at IS NULL;
