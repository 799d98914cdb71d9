-- pgbench: the statement get_key runs to take a seat for a new client on one
-- hot pack row (Q_GRANT_NEW in service/store/grants.c, copied: keep it in
-- step; ev is the license.granted event of the outbox), the limit a grant
-- is measured against.
-- -D customer= product= platform= version= vendor= base= n=0: a new client
-- id (a number, apart from licd's and other runs') per transaction.
\set n :n + 1
\set client :base + 1000000000 * :client_id + :n
WITH cand AS (
  SELECT id FROM packs WHERE customer_id = :customer AND product_id = :product
  AND type IN ('per_device', 'per_user')
  AND platform IN ('any', :platform) AND (:version::text IS NULL OR version = :version)
  AND first_active <= now() AND (expires IS NULL OR expires > now())
  AND assigned + allocated < quantity
  AND NOT EXISTS (SELECT 1 FROM assignments WHERE customer_id = :customer
   AND product_id = :product AND client_id = :client::text AND (temporary OR status = 'active'))
  ORDER BY expires ASC NULLS LAST, id LIMIT 1),
 seat AS (
  UPDATE packs s SET assigned = s.assigned + 1, free_serials = s.free_serials[2:],
   seat_serial = coalesce(s.free_serials[1], s.begin_serial + s.assigned) FROM cand
  WHERE s.id = cand.id AND s.assigned + s.allocated < s.quantity
  RETURNING s.id, s.pack_id, s.version, s.expires, s.seat_serial AS serial),
 fresh AS (
  INSERT INTO assignments (vendor_id, customer_id, product_id, pack_id, license_id,
   serial, client_id, version, platform, temporary, expires_at)
  SELECT :vendor, :customer, :product, seat.id,
   CASE WHEN held.n = 0 THEN seat.serial::text ELSE seat.serial || '-' || (held.n + 1) END,
   seat.serial, :client, seat.version, :platform, false, seat.expires
  FROM seat CROSS JOIN LATERAL (SELECT count(*) AS n FROM assignments h
   WHERE h.pack_id = seat.id AND h.serial = seat.serial) held
  RETURNING *, md5(row(assignments.license_id, assignments.client_id, assignments.version,
   assignments.platform, assignments.serial, assignments.pack_id,
   extract(epoch FROM assignments.expires_at), extract(epoch FROM assignments.issued_at),
   assignments.temporary)::text) AS claims_version),
 ev AS (
  INSERT INTO events (vendor_id, type, data)
  SELECT f.vendor_id, 'license.granted', jsonb_strip_nulls(jsonb_build_object(
   'license_id', f.license_id, 'pack_id', seat.pack_id, 'client_id', f.client_id,
   'product', (SELECT code FROM products WHERE id = f.product_id),
   'customer_id', f.customer_id))
  FROM fresh f CROSS JOIN seat)
 SELECT a.id, a.vendor_id, a.customer_id, a.product_id, a.license_id,
 coalesce(p.pack_id, ''), coalesce(a.serial, 0), a.client_id, a.version, a.platform,
 a.temporary, a.blocked, a.status, extract(epoch FROM a.issued_at)::bigint,
 coalesce(extract(epoch FROM a.expires_at)::bigint, 0),
 coalesce(p.on_over_limit, 'refuse'), coalesce(a.expires_at <= now(), false), NULL::text, true,
 a.claims_version, coalesce(jsonb_typeof(p.attributes -> 'limits') = 'object'
  AND p.attributes -> 'limits' <> '{}', false)
 FROM fresh a LEFT JOIN packs p ON p.id = a.pack_id;
