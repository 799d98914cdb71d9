-- Floating seats: leases on the seats of concurrent packs, kept alive by
-- heartbeats. A seat is taken while a lease is neither released nor lapsed,
-- so a lapsed lease frees its seat without anyone asking.
CREATE TABLE leases (
    id           uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    vendor_id    uuid NOT NULL REFERENCES vendors(id) ON DELETE CASCADE,
    customer_id  uuid NOT NULL REFERENCES customers(id) ON DELETE CASCADE,
    product_id   bigint NOT NULL REFERENCES products(id) ON DELETE CASCADE,
    pack_id      bigint NOT NULL REFERENCES packs(id) ON DELETE CASCADE,
    client_id    text NOT NULL CHECK (length(client_id) BETWEEN 1 AND 256),
    created_at   timestamptz NOT NULL DEFAULT now(),
    heartbeat_at timestamptz NOT NULL DEFAULT now(),
    expires_at   timestamptz NOT NULL,
    released_at  timestamptz
);
CREATE INDEX leases_in_use ON leases (pack_id, expires_at) WHERE released_at IS NULL;
CREATE INDEX leases_expiry ON leases (expires_at);
