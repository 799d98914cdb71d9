-- Idempotency-Key: the first answer to a POST, kept so that a retry with the
-- same key and body gets it again instead of doing the work twice. A row is
-- in flight (status NULL) while the first request runs; locked_until bounds
-- how long a crashed node's claim holds back the retries. The answer is
-- sealed (AES-256-GCM under a key derived from the signing key named by
-- kid): it may hold a new customer key, a webhook secret or a licence.
CREATE TABLE idempotency_keys (
    scope text NOT NULL,          -- the caller: "v:<vendor_id>", "c:<customer_id>", ...
    key text NOT NULL,            -- the Idempotency-Key header
    request_hash bytea NOT NULL,  -- SHA-256 of method, path, Content-Type and body
    claim text NOT NULL,          -- random: which request holds the row
    created_at timestamptz NOT NULL DEFAULT now(),
    expires_at timestamptz NOT NULL,
    locked_until timestamptz,
    request_id text,              -- the first request's X-Request-Id, which its replays carry
    status integer,
    content_type text,
    kid text,
    answer bytea,
    PRIMARY KEY (scope, key)
);
CREATE INDEX idempotency_keys_expires_at ON idempotency_keys (expires_at);
