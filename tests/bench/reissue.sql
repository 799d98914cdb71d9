-- pgbench: the one indexed read a reissue needs, the look-up of the licence
-- a client holds (store_grant_lookup in service/store/grants.c, copied: keep
-- it in step), for one of the clients 1..rows that load.sql gave a licence.
-- -D customer= product= rows=
\set client random(1, :rows)
SELECT a.id, a.vendor_id, a.customer_id, a.product_id, a.license_id,
 coalesce(p.pack_id, ''), coalesce(a.serial, 0), a.client_id, a.version, a.platform,
 a.temporary, a.blocked, a.status, extract(epoch FROM a.issued_at)::bigint,
 coalesce(extract(epoch FROM a.expires_at)::bigint, 0),
 coalesce(a.expires_at <= now(), false)
 FROM assignments a LEFT JOIN packs p ON p.id = a.pack_id
 WHERE a.customer_id = :customer AND a.product_id = :product AND a.client_id = :client
 AND (a.temporary OR a.status = 'active');
