-- Operating the shared-computer model and the keys: a user's machines as one
-- row each (the machine limit counts these rows, not session tokens, which
-- grow with every renewal), a list position for users, and keys that a
-- rotation leaves working for a grace period.

-- One row per user and machine, upserted with every token issued or renewed.
-- A machine holds one of the user's slots while it is not freed and its
-- latest token is unexpired. Freeing a slot (the vendor) sets freed_at and
-- moves renew_from past every token issued so far: a token whose iat (whole
-- seconds) is before renew_from is never renewed, and the next token issued
-- on the machine is stamped no earlier than renew_from.
CREATE TABLE user_machines (
    user_id          uuid NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    machine_id       text NOT NULL,
    last_token_at    timestamptz NOT NULL,
    token_expires_at timestamptz NOT NULL,
    freed_at         timestamptz,
    renew_from       bigint NOT NULL DEFAULT 0,
    PRIMARY KEY (user_id, machine_id)
);

INSERT INTO user_machines (user_id, machine_id, last_token_at, token_expires_at)
SELECT user_id, machine_id, max(issued_at), max(expires_at)
FROM session_tokens GROUP BY user_id, machine_id;

-- A bigint that increases with every user, so that GET /v1/users pages by it.
ALTER TABLE users ADD COLUMN seq bigint GENERATED ALWAYS AS IDENTITY;
CREATE UNIQUE INDEX users_customer_seq ON users (customer_id, seq);

-- A rotated key keeps working until valid_until (NULL: no end).
ALTER TABLE vendor_api_keys ADD COLUMN valid_until timestamptz;
ALTER TABLE customer_keys ADD COLUMN valid_until timestamptz;

-- Only the machine count that user_machines replaces read tokens by expiry
-- per user; one index less to write with every token.
DROP INDEX session_tokens_user;
