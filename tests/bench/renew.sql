-- pgbench: a renewal as one read and one write: the user and its entitlement,
-- then the new session token row, durable (session_tokens has no key on
-- user and machine to upsert on, so the write is the insert an upsert does).
-- Users 1..users, each on machine "its number". -D customer= product= users= ttl=
\set k random(1, :users)
SELECT u.id AS uid, u.revoked_at IS NOT NULL AS revoked, e.state, e.features,
 e.max_machines, coalesce(e.expires <= now(), false) AS expired
 FROM users u JOIN entitlements e ON e.user_id = u.id AND e.product_id = :product
 WHERE u.customer_id = :customer AND u.username = :k \gset
INSERT INTO session_tokens (user_id, machine_id, products, renewed, expires_at)
 VALUES (:uid, :k, '{bench}', true, now() + make_interval(secs => :ttl))
 RETURNING jti, extract(epoch FROM issued_at)::bigint, extract(epoch FROM expires_at)::bigint;
