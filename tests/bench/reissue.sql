-- pgbench: the one indexed read a reissue needs, the look-up of the licence
-- a client holds with its saved document (Q_GRANT_MINE in
-- service/store/grants.c, copied: keep it in step), for one of the clients
-- 1..rows that load.sql gave a licence. -D customer= product= rows=
\set client random(1, :rows)
SELECT a.id, a.vendor_id, a.customer_id, a.product_id, a.license_id,
 coalesce(p.pack_id, ''), coalesce(a.serial, 0), a.client_id, a.version, a.platform,
 a.temporary, a.blocked, a.status, extract(epoch FROM a.issued_at)::bigint,
 coalesce(extract(epoch FROM a.expires_at)::bigint, 0),
 coalesce(p.on_over_limit, 'refuse'), coalesce(a.expires_at <= now(), false),
 (SELECT d.document FROM license_documents d
  WHERE d.assignment_id = a.id AND d.claims_version = a.claims_version),
 false, a.claims_version, coalesce(jsonb_typeof(p.attributes -> 'limits') = 'object'
 AND p.attributes -> 'limits' <> '{}', false)
 FROM (SELECT *, md5(row(license_id, client_id, version, platform, serial, pack_id,
  extract(epoch FROM expires_at), extract(epoch FROM issued_at), temporary)::text) AS claims_version
  FROM assignments WHERE customer_id = :customer AND product_id = :product
  AND client_id = :client::text AND (temporary OR status = 'active')) a
 LEFT JOIN packs p ON p.id = a.pack_id;
