-- The clearinghouse model: customers and their keys, products and upgrade
-- paths, licence packs, assignments (every licence handed out), client
-- images and challenges for proving a build, and the vendor audit trail.
CREATE EXTENSION IF NOT EXISTS btree_gist;

CREATE TABLE customers (
    id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    vendor_id   uuid NOT NULL REFERENCES vendors(id) ON DELETE CASCADE,
    name        text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    created_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX customers_vendor ON customers (vendor_id, created_at, id);

CREATE TABLE customer_keys (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    customer_id uuid NOT NULL REFERENCES customers(id) ON DELETE CASCADE,
    prefix      text NOT NULL,
    key_hash    bytea NOT NULL UNIQUE CHECK (length(key_hash) = 32),
    created_at  timestamptz NOT NULL DEFAULT now(),
    revoked_at  timestamptz
);
CREATE INDEX customer_keys_prefix ON customer_keys (prefix);

CREATE TABLE products (
    id                bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    vendor_id         uuid NOT NULL REFERENCES vendors(id) ON DELETE CASCADE,
    code              text NOT NULL,
    name              text NOT NULL,
    version           text NOT NULL,
    scheme            text NOT NULL DEFAULT 'standard',
    features          jsonb NOT NULL DEFAULT '[]' CHECK (jsonb_typeof(features) = 'array'),
    require_challenge boolean NOT NULL DEFAULT false,
    created_at        timestamptz NOT NULL DEFAULT now(),
    UNIQUE (vendor_id, code)
);

CREATE TABLE upgrade_paths (
    product_id   bigint NOT NULL REFERENCES products(id) ON DELETE CASCADE,
    from_version text NOT NULL,
    to_version   text NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (product_id, from_version, to_version)
);

-- A pack's seats are taken with a conditional update (assigned < quantity);
-- the CHECK is the backstop. Serial ranges of one vendor never overlap, so a
-- serial (the licence id of a pack licence) names one licence.
CREATE TABLE packs (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    vendor_id     uuid NOT NULL REFERENCES vendors(id) ON DELETE CASCADE,
    pack_id       text NOT NULL,
    customer_id   uuid NOT NULL REFERENCES customers(id) ON DELETE CASCADE,
    product_id    bigint NOT NULL REFERENCES products(id) ON DELETE CASCADE,
    version       text NOT NULL,
    type          text NOT NULL CHECK (type IN ('per_device', 'per_user', 'concurrent', 'upgrade')),
    quantity      integer NOT NULL CHECK (quantity BETWEEN 1 AND 100000000),
    assigned      integer NOT NULL DEFAULT 0,
    issued_at     timestamptz NOT NULL DEFAULT now(),
    first_active  timestamptz NOT NULL DEFAULT now(),
    expires       timestamptz,
    begin_serial  bigint NOT NULL CHECK (begin_serial BETWEEN 1 AND 999999999999999),
    platform      text NOT NULL DEFAULT 'any'
                  CHECK (platform IN ('windows', 'non_windows', 'legacy', 'direct_connect', 'any')),
    attributes    jsonb NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(attributes) = 'object'),
    CHECK (assigned >= 0 AND assigned <= quantity),
    CHECK (expires IS NULL OR expires > first_active),
    UNIQUE (vendor_id, pack_id),
    EXCLUDE USING gist (vendor_id WITH =,
                        int8range(begin_serial, begin_serial + quantity) WITH &&)
);
CREATE INDEX packs_grant ON packs (customer_id, product_id, type);

-- Every licence handed out. Pack licences carry their serial as license_id;
-- temporary licences 'T' and a number. One active permanent licence per
-- client and product; at most one temporary licence per client and product, ever.
CREATE SEQUENCE temporary_license_seq;
CREATE TABLE assignments (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    vendor_id    uuid NOT NULL REFERENCES vendors(id) ON DELETE CASCADE,
    customer_id  uuid NOT NULL REFERENCES customers(id) ON DELETE CASCADE,
    product_id   bigint NOT NULL REFERENCES products(id) ON DELETE CASCADE,
    pack_id      bigint REFERENCES packs(id) ON DELETE CASCADE,
    license_id   text NOT NULL,
    serial       bigint,
    client_id    text NOT NULL,
    version      text NOT NULL,
    platform     text NOT NULL,
    temporary    boolean NOT NULL,
    status       text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'retired', 'upgraded')),
    blocked      boolean NOT NULL DEFAULT false,
    issued_at    timestamptz NOT NULL DEFAULT now(),
    expires_at   timestamptz,
    upgraded_to  bigint REFERENCES assignments(id),
    UNIQUE (vendor_id, license_id),
    CHECK (temporary = (pack_id IS NULL))
);
CREATE UNIQUE INDEX assignments_one_active ON assignments (customer_id, product_id, client_id)
    WHERE NOT temporary AND status = 'active';
CREATE UNIQUE INDEX assignments_one_temporary ON assignments (customer_id, product_id, client_id)
    WHERE temporary;
CREATE INDEX assignments_by_pack ON assignments (pack_id, id);
CREATE INDEX assignments_by_customer ON assignments (customer_id, id);

CREATE TABLE client_images (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    vendor_id    uuid NOT NULL REFERENCES vendors(id) ON DELETE CASCADE,
    software_id  text NOT NULL,
    platform     text NOT NULL
                 CHECK (platform IN ('windows', 'non_windows', 'legacy', 'direct_connect', 'any')),
    image        bytea NOT NULL,
    sha256       bytea NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT now(),
    UNIQUE (vendor_id, software_id)
);

CREATE TABLE challenges (
    nonce        bytea PRIMARY KEY CHECK (length(nonce) = 16),
    customer_id  uuid NOT NULL REFERENCES customers(id) ON DELETE CASCADE,
    software_id  text,
    created_at   timestamptz NOT NULL DEFAULT now(),
    expires_at   timestamptz NOT NULL,
    used_at      timestamptz
);
CREATE INDEX challenges_expiry ON challenges (expires_at);

CREATE TABLE audit (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    vendor_id   uuid NOT NULL REFERENCES vendors(id) ON DELETE CASCADE,
    actor       text NOT NULL,
    action      text NOT NULL,
    object_type text NOT NULL,
    object_id   text NOT NULL,
    request_id  text NOT NULL,
    details     jsonb NOT NULL DEFAULT '{}',
    at          timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX audit_by_vendor ON audit (vendor_id, id);
