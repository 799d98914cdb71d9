-- The virtual-environment model: group keys of customers, the activations
-- (activation keys) they hand out per product, application and node, update
-- passwords with the evidence of clones, usage reports, and the service's own
-- secrets (created once, shared by every licd node through the database).
CREATE TABLE service_secrets (
    name        text PRIMARY KEY,
    secret      bytea NOT NULL CHECK (length(secret) >= 32),
    created_at  timestamptz NOT NULL DEFAULT now()
);

-- A group key is 256 random bits shown once ("lg_" + 64 hex); only its
-- SHA-256 is kept, found by its public prefix. An empty link (link_value
-- NULL) binds to the next activation; an ip_range value is a canonical CIDR.
CREATE TABLE group_keys (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    vendor_id    uuid NOT NULL REFERENCES vendors(id) ON DELETE CASCADE,
    customer_id  uuid NOT NULL REFERENCES customers(id) ON DELETE CASCADE,
    prefix       text NOT NULL,
    key_hash     bytea NOT NULL UNIQUE CHECK (length(key_hash) = 32),
    scheme       text NOT NULL CHECK (length(scheme) BETWEEN 1 AND 64),
    link_type    text NOT NULL CHECK (link_type IN ('ip_range', 'domain', 'node', 'app')),
    link_value   text CHECK (CASE WHEN link_type = 'ip_range' THEN link_value::cidr::text = link_value
                                  ELSE true END),
    limits       jsonb NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(limits) = 'object'),
    expires      timestamptz,
    created_at   timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX group_keys_prefix ON group_keys (prefix);
CREATE INDEX group_keys_vendor ON group_keys (vendor_id, id);

-- The pool of products a group key licenses, with the installations allowed
-- per node (distinct app ids holding an unexpired activation key).
CREATE TABLE group_key_products (
    group_key_id    bigint NOT NULL REFERENCES group_keys(id) ON DELETE CASCADE,
    product_id      bigint NOT NULL REFERENCES products(id) ON DELETE CASCADE,
    quota_per_node  integer NOT NULL CHECK (quota_per_node BETWEEN 1 AND 1000000),
    PRIMARY KEY (group_key_id, product_id)
);

-- One licence per group key, product, application and node: asked again it
-- keeps its license_id ('G' and a number) and gets a new period.
CREATE SEQUENCE activation_license_seq;
CREATE TABLE activations (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    vendor_id     uuid NOT NULL REFERENCES vendors(id) ON DELETE CASCADE,
    customer_id   uuid NOT NULL REFERENCES customers(id) ON DELETE CASCADE,
    group_key_id  bigint NOT NULL REFERENCES group_keys(id) ON DELETE CASCADE,
    product_id    bigint NOT NULL REFERENCES products(id) ON DELETE CASCADE,
    app_id        text NOT NULL,
    node_id       text NOT NULL,
    license_id    text NOT NULL,
    static        text NOT NULL,          -- the update passwords' static part for this key and node
    container_id  text,
    ip            inet,
    domain        text,
    blocked       boolean NOT NULL DEFAULT false,
    issued_at     timestamptz NOT NULL DEFAULT now(),
    activated_at  timestamptz NOT NULL DEFAULT now(),
    expires_at    timestamptz NOT NULL,
    UNIQUE (group_key_id, product_id, app_id, node_id),
    UNIQUE (vendor_id, license_id)
);
CREATE INDEX activations_quota ON activations (group_key_id, product_id, node_id, expires_at);
CREATE INDEX activations_static ON activations (group_key_id, static);

-- Update passwords STATIC-DYNAMIC: only the SHA-256 of the dynamic part is
-- kept. issued → used at the first presentation → cloned at any later one,
-- until a vendor resolves it (dismissed or blocked).
CREATE TABLE update_passwords (
    id             bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    vendor_id      uuid NOT NULL REFERENCES vendors(id) ON DELETE CASCADE,
    group_key_id   bigint NOT NULL REFERENCES group_keys(id) ON DELETE CASCADE,
    product_id     bigint NOT NULL REFERENCES products(id) ON DELETE CASCADE,
    node_id        text NOT NULL,
    app_id         text NOT NULL,
    license_id     text NOT NULL,         -- the licence it was issued with
    static         text NOT NULL,
    dynamic_hash   bytea NOT NULL UNIQUE CHECK (length(dynamic_hash) = 32),
    status         text NOT NULL DEFAULT 'issued'
                   CHECK (status IN ('issued', 'used', 'cloned', 'dismissed', 'blocked')),
    issued_at      timestamptz NOT NULL DEFAULT now(),
    first_used_at  timestamptz,
    cloned_at      timestamptz,
    resolved_at    timestamptz
);
CREATE INDEX update_passwords_queue ON update_passwords (vendor_id, status, id);
CREATE INDEX update_passwords_age ON update_passwords (issued_at) WHERE status <> 'cloned';

-- Every presentation of an update password: the first use and each clone,
-- with the licence issued in answer to it.
CREATE TABLE update_password_evidence (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    password_id   bigint NOT NULL REFERENCES update_passwords(id) ON DELETE CASCADE,
    kind          text NOT NULL CHECK (kind IN ('first_use', 'clone')),
    at            timestamptz NOT NULL DEFAULT now(),
    ip            inet,
    node_id       text NOT NULL,
    app_id        text NOT NULL,
    container_id  text,
    domain        text,
    license_id    text NOT NULL
);
CREATE INDEX update_password_evidence_by_password ON update_password_evidence (password_id, id);

-- Usage reported by clients under a licence or activation key.
CREATE TABLE usage_records (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    vendor_id    uuid NOT NULL REFERENCES vendors(id) ON DELETE CASCADE,
    license_id   text NOT NULL,
    metric       text NOT NULL CHECK (length(metric) BETWEEN 1 AND 64),
    value        double precision NOT NULL,
    at           timestamptz NOT NULL,
    received_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX usage_records_by_license ON usage_records (vendor_id, license_id, metric, at);
