-- A pack's seats in use (its `assigned` in the API, licd_pack_seats_in_use)
-- now include the seats allocated to sites (0017): its peak follows both
-- columns. The function runs only on a new peak, as in 0014.
CREATE OR REPLACE FUNCTION packs_peak_in_use() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    NEW.peak_in_use := NEW.assigned + NEW.allocated;
    RETURN NEW;
END
$$;
DROP TRIGGER packs_peak_in_use ON packs;
CREATE TRIGGER packs_peak_in_use BEFORE INSERT OR UPDATE OF assigned, allocated ON packs
    FOR EACH ROW WHEN (NEW.assigned + NEW.allocated > NEW.peak_in_use)
    EXECUTE FUNCTION packs_peak_in_use();

UPDATE packs SET peak_in_use = assigned + allocated WHERE assigned + allocated > peak_in_use;
