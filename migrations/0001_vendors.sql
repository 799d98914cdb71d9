-- Vendors (the tenants that make products and packs) and their API keys.
-- A key is 256 random bits shown once; only its SHA-256 is kept, found by a
-- short public prefix and compared in constant time.
CREATE TABLE vendors (
    id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    name        text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    created_at  timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE vendor_api_keys (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    vendor_id   uuid NOT NULL REFERENCES vendors(id) ON DELETE CASCADE,
    prefix      text NOT NULL,
    key_hash    bytea NOT NULL UNIQUE CHECK (length(key_hash) = 32),
    created_at  timestamptz NOT NULL DEFAULT now(),
    revoked_at  timestamptz
);
CREATE INDEX vendor_api_keys_prefix ON vendor_api_keys (prefix);
