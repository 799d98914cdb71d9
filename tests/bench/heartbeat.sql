-- pgbench: a heartbeat's one write, a single-row UPDATE of one of the leases
-- 1..rows that load.sql made (their ids spell their number). Durable unless
-- run with PGOPTIONS='-c synchronous_commit=off'. -D rows= ttl=
\set k random(1, :rows)
UPDATE leases SET heartbeat_at = now(), expires_at = now() + make_interval(secs => :ttl)
 WHERE id = ('00000000-0000-4000-8000-' || lpad(:k, 12, '0'))::uuid;
