-- Operating packs: what a pack does once usage passes a limit, licences a
-- vendor or their customer deactivates (the seat goes back to the pack and
-- the licence is never issued again), and activation keys that were upgraded.
ALTER TABLE packs
    ADD COLUMN on_over_limit text NOT NULL DEFAULT 'refuse'
        CHECK (on_over_limit IN ('refuse', 'report')),
    -- Serials of the pack's range whose licence was deactivated, lowest
    -- first: the next seats taken get them again, under new licence ids.
    -- Serials handed out so far: assigned + cardinality(free_serials).
    ADD COLUMN free_serials bigint[] NOT NULL DEFAULT '{}',
    -- The serial the pack's latest seat got (set by the statement that takes
    -- the seat, which reads it back).
    ADD COLUMN seat_serial bigint;

-- A deactivated licence has given its seat back: `assigned` counts a pack's
-- licences that are not deactivated.
ALTER TABLE assignments DROP CONSTRAINT assignments_status_check;
ALTER TABLE assignments
    ADD CONSTRAINT assignments_status_check
        CHECK (status IN ('active', 'retired', 'upgraded', 'deactivated')),
    ADD COLUMN deactivated_at timestamptz;
-- The licences a serial has had (the first one's id is the serial, later
-- ones "<serial>-<n>").
CREATE INDEX assignments_by_serial ON assignments (pack_id, serial) WHERE serial IS NOT NULL;

-- An activation key upgraded with a seat of an upgrade pack: the new pack
-- licence; an activation is upgraded once.
ALTER TABLE activations ADD COLUMN upgraded_to bigint REFERENCES assignments(id);

-- GET /v1/packs pages through a vendor's packs in id order.
CREATE INDEX packs_by_vendor ON packs (vendor_id, id);
