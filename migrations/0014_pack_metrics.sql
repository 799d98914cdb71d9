-- Per-pack figures for /metrics, kept in the pack's row so that every licd
-- node on the database reports the same numbers and a restart loses none.
-- The statements that refuse a seat or hand out a temporary licence count
-- them themselves (service/store/grants.c, leases.c); the peak follows
-- `assigned` through the trigger below, whatever statement changes it.
ALTER TABLE packs
    -- Requests refused for want of a seat: a get_key that found no free
    -- seat in the customer's packs that could serve it, a lease checkout
    -- that found every concurrent pack full.
    ADD COLUMN denials bigint NOT NULL DEFAULT 0,
    -- Temporary licences handed out while the pack had no seat to give.
    ADD COLUMN temporary_issued bigint NOT NULL DEFAULT 0,
    -- The highest `assigned` the pack has had.
    ADD COLUMN peak_in_use bigint NOT NULL DEFAULT 0;

UPDATE packs SET peak_in_use = assigned;

-- Runs only when a row reaches a new peak (the WHEN clause is checked
-- without calling the function), so the seat-taking statements pay for it
-- once per new peak and the others never.
CREATE FUNCTION packs_peak_in_use() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    NEW.peak_in_use := NEW.assigned;
    RETURN NEW;
END
$$;
CREATE TRIGGER packs_peak_in_use BEFORE INSERT OR UPDATE OF assigned ON packs
    FOR EACH ROW WHEN (NEW.assigned > NEW.peak_in_use) EXECUTE FUNCTION packs_peak_in_use();
