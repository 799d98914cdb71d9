-- Offline use, part two: site allocations. A vendor splits a pack across
-- site servers that run without its database: each site gets a signed
-- allocation document (a quantity and a sequence number). Allocated seats
-- leave the pack's free pool: a pack's seats in use here (assigned) plus
-- those allocated never exceed its quantity, so no grant or checkout can
-- take a seat a site holds.
ALTER TABLE packs
    ADD COLUMN allocated integer NOT NULL DEFAULT 0 CHECK (allocated >= 0),
    ADD CONSTRAINT packs_seats_within_quantity CHECK (assigned + allocated <= quantity);

-- A site of a vendor: the public keys its usage reports are signed with
-- (PUT /v1/sites/{site_id}), and where its chain of reports stands.
CREATE TABLE sites (
    vendor_id   uuid NOT NULL REFERENCES vendors(id) ON DELETE CASCADE,
    site_id     text NOT NULL CHECK (site_id ~ '^[A-Za-z0-9._-]{1,64}$'),
    jwks        jsonb,
    -- The last report imported: its seq, the base64url SHA-256 of its
    -- compact form (the next one's prev) and its figures.
    last_seq    bigint NOT NULL DEFAULT 0,
    last_hash   text NOT NULL DEFAULT '',
    last_report jsonb,
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (vendor_id, site_id)
);

-- One pack's allocation to one site; sequence goes up with every change,
-- so that a site takes only the newest document.
CREATE TABLE site_allocations (
    id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    vendor_id   uuid NOT NULL,
    site_id     text NOT NULL,
    pack_id     bigint NOT NULL REFERENCES packs(id) ON DELETE CASCADE,
    quantity    integer NOT NULL CHECK (quantity >= 0),
    sequence    bigint NOT NULL DEFAULT 1,
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now(),
    FOREIGN KEY (vendor_id, site_id) REFERENCES sites(vendor_id, site_id) ON DELETE CASCADE,
    UNIQUE (pack_id, site_id)
);
CREATE INDEX site_allocations_by_site ON site_allocations (vendor_id, site_id);

-- The usage reports a site sent, in their chain's order.
CREATE TABLE site_reports (
    vendor_id   uuid NOT NULL,
    site_id     text NOT NULL,
    seq         bigint NOT NULL CHECK (seq >= 1),
    report      text NOT NULL,
    claims      jsonb NOT NULL,
    received_at timestamptz NOT NULL DEFAULT now(),
    FOREIGN KEY (vendor_id, site_id) REFERENCES sites(vendor_id, site_id) ON DELETE CASCADE,
    PRIMARY KEY (vendor_id, site_id, seq)
);
