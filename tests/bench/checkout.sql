-- pgbench: a checkout as one statement, a conditional UPDATE of the pack's
-- seat counter and the INSERT of the lease (as grants take seats), for a new
-- client per transaction on one hot pack row: its own concurrent pack, so
-- that licd's checkouts never count these leases. -D pack= ttl= base= n=0
\set n :n + 1
\set client :base + 1000000000 * :client_id + :n
WITH seat AS (
  UPDATE packs SET assigned = assigned + 1 WHERE id = :pack AND assigned < quantity
  RETURNING id, vendor_id, customer_id, product_id)
INSERT INTO leases (vendor_id, customer_id, product_id, pack_id, client_id, expires_at)
SELECT vendor_id, customer_id, product_id, id, :client, now() + make_interval(secs => :ttl)
 FROM seat RETURNING id, extract(epoch FROM expires_at)::bigint;
