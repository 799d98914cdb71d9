-- pgbench: the seat-taking statement of a grant on one hot pack row (the
-- seat/old/fresh/ev part of Q_GRANT in service/store/grants.c, copied: keep it
-- in step; ev is the license.granted event of the outbox), the limit a grant
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
  AND assigned < quantity
  ORDER BY expires ASC NULLS LAST, id LIMIT 1),
 seat AS (
  UPDATE packs s SET assigned = s.assigned + 1 FROM cand
  WHERE s.id = cand.id AND s.assigned < s.quantity
  RETURNING s.id, s.pack_id, s.version, s.expires, s.begin_serial + s.assigned - 1 AS serial),
 old AS (
  UPDATE assignments SET status = 'retired'
  WHERE customer_id = :customer AND product_id = :product AND client_id = :client
  AND status = 'active' AND NOT blocked
  AND (temporary OR expires_at <= now()) AND EXISTS (SELECT 1 FROM seat)
  RETURNING id),
 a AS (
  INSERT INTO assignments (vendor_id, customer_id, product_id, pack_id, license_id,
   serial, client_id, version, platform, temporary, expires_at)
  SELECT :vendor, :customer, :product, seat.id, seat.serial::text, seat.serial, :client,
   seat.version, :platform, false, seat.expires
  FROM seat CROSS JOIN (SELECT count(*) FROM old) retired
  RETURNING *),
 ev AS (
  INSERT INTO events (vendor_id, type, data)
  SELECT a.vendor_id, 'license.granted', jsonb_strip_nulls(jsonb_build_object(
   'license_id', a.license_id, 'pack_id', seat.pack_id, 'client_id', a.client_id,
   'product', (SELECT code FROM products WHERE id = a.product_id),
   'customer_id', a.customer_id))
  FROM a CROSS JOIN seat)
 SELECT a.id, a.vendor_id, a.customer_id, a.product_id, a.license_id,
 coalesce(p.pack_id, ''), coalesce(a.serial, 0), a.client_id, a.version, a.platform,
 a.temporary, a.blocked, a.status, extract(epoch FROM a.issued_at)::bigint,
 coalesce(extract(epoch FROM a.expires_at)::bigint, 0),
 coalesce(a.expires_at <= now(), false)
 FROM a LEFT JOIN packs p ON p.id = a.pack_id;
