-- The shared-computer model: users of a customer with passwords (scrypt),
-- entitlements per product, session tokens per (user, machine), and failed
-- logins for throttling.
CREATE TABLE users (
    id            uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    customer_id   uuid NOT NULL REFERENCES customers(id) ON DELETE CASCADE,
    username      text NOT NULL CHECK (length(username) BETWEEN 1 AND 128),
    password_hash text NOT NULL,
    revoked_at    timestamptz,
    created_at    timestamptz NOT NULL DEFAULT now(),
    UNIQUE (customer_id, username)
);

CREATE TABLE entitlements (
    user_id      uuid NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    product_id   bigint NOT NULL REFERENCES products(id) ON DELETE CASCADE,
    state        text NOT NULL CHECK (state IN ('valid', 'intermediate', 'invalid')),
    features     jsonb NOT NULL DEFAULT '[]' CHECK (jsonb_typeof(features) = 'array'),
    max_machines integer NOT NULL DEFAULT 5 CHECK (max_machines BETWEEN 1 AND 100000),
    expires      timestamptz,
    updated_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (user_id, product_id)
);

-- Every token issued; a (user, machine) pair with an unexpired token is one machine.
CREATE TABLE session_tokens (
    jti         uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    user_id     uuid NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    machine_id  text NOT NULL,
    products    text[] NOT NULL,
    renewed     boolean NOT NULL DEFAULT false,
    issued_at   timestamptz NOT NULL DEFAULT now(),
    expires_at  timestamptz NOT NULL
);
CREATE INDEX session_tokens_user ON session_tokens (user_id, expires_at);
CREATE INDEX session_tokens_issued ON session_tokens (user_id, issued_at);

CREATE TABLE login_failures (
    customer_id uuid NOT NULL REFERENCES customers(id) ON DELETE CASCADE,
    username    text NOT NULL,
    at          timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX login_failures_recent ON login_failures (customer_id, username, at);
