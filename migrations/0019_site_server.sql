-- Offline use, part three: this database serves a site server (licd with
-- LICD_SITE_ID). `licd import` turns each signed allocation of the vendor
-- into a pack of its quantity here; `licd export-usage` writes the signed,
-- hash-chained usage reports the vendor imports.

-- A pack made from an allocation: site_quantity is the allocation's
-- quantity, and the pack's seats free here are site_quantity - assigned
-- (never below 0). A pack holds at least one seat, and a lower allocation
-- cannot take back seats in use: quantity = greatest(site_quantity,
-- assigned, 1), and the seats of it that the allocation does not cover are
-- held back in `allocated`. The trigger keeps them so as seats are taken and
-- come back: a lowered allocation takes effect as seats return.
ALTER TABLE packs ADD COLUMN site_quantity integer CHECK (site_quantity >= 0);
CREATE FUNCTION packs_site_fit() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    NEW.quantity := greatest(NEW.site_quantity, NEW.assigned, 1);
    NEW.allocated := NEW.quantity - greatest(NEW.site_quantity, NEW.assigned);
    RETURN NEW;
END
$$;
CREATE TRIGGER packs_site_fit BEFORE INSERT OR UPDATE ON packs
    FOR EACH ROW WHEN (NEW.site_quantity IS NOT NULL AND
                       (NEW.quantity <> greatest(NEW.site_quantity, NEW.assigned, 1) OR
                        NEW.allocated <> greatest(NEW.site_quantity, NEW.assigned, 1)
                                         - greatest(NEW.site_quantity, NEW.assigned)))
    EXECUTE FUNCTION packs_site_fit();

-- The last allocation imported per pack of a vendor: a file whose sequence
-- is not higher is refused.
CREATE TABLE site_imports (
    vendor_id   uuid NOT NULL REFERENCES vendors(id) ON DELETE CASCADE,
    pack_id     text NOT NULL,
    sequence    bigint NOT NULL,
    quantity    integer NOT NULL,
    file        text NOT NULL,
    imported_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (vendor_id, pack_id)
);

-- The usage reports this site wrote, chained: each one's prev is the hash
-- of the one before. denials_total and the period's end are where the next
-- report starts.
CREATE TABLE site_exports (
    seq           bigint PRIMARY KEY CHECK (seq >= 1),
    report        text NOT NULL,
    hash          text NOT NULL,
    period_from   timestamptz NOT NULL,
    period_to     timestamptz NOT NULL,
    denials_total bigint NOT NULL,
    created_at    timestamptz NOT NULL DEFAULT now()
);
