-- psql script: clients :from..:to of the bench product, each with a licence
-- of the seat pack :seats and a live lease of the concurrent pack :floating,
-- written straight into the tables. Client ids are the numbers; a lease's id
-- spells its number (00000000-0000-4000-8000-000000000042), so wrk and
-- pgbench can name any of them. Seats are counted in the pack as grants
-- count them, with the next serials of its range.
\set ON_ERROR_STOP on
BEGIN;
-- Every referenced row exists: skip the foreign-key triggers, row by row the
-- slowest part of a load.
SET LOCAL session_replication_role = replica;
WITH p AS (
  UPDATE packs SET assigned = assigned + (:to - :from + 1) WHERE id = :seats
  RETURNING id, vendor_id, customer_id, product_id, version, platform,
   begin_serial + assigned - (:to - :from + 1) AS first)
INSERT INTO assignments (vendor_id, customer_id, product_id, pack_id, license_id, serial,
 client_id, version, platform, temporary)
SELECT p.vendor_id, p.customer_id, p.product_id, p.id, (p.first + i - :from)::text,
 p.first + i - :from, i::text, p.version, p.platform, false
 FROM p, generate_series(:from, :to) i;
INSERT INTO leases (id, vendor_id, customer_id, product_id, pack_id, client_id, expires_at)
SELECT ('00000000-0000-4000-8000-' || lpad(i::text, 12, '0'))::uuid, p.vendor_id,
 p.customer_id, p.product_id, p.id, i::text, now() + interval '1 day'
 FROM packs p, generate_series(:from, :to) i WHERE p.id = :floating;
-- A concurrent pack counts its live leases (migration 0009).
UPDATE packs SET assigned = assigned + (:to - :from + 1),
 next_lapse_at = least(next_lapse_at, now() + interval '1 day') WHERE id = :floating;
COMMIT;
VACUUM ANALYZE packs, assignments, leases;
CHECKPOINT;
