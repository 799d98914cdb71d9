-- pack.low (0016) follows the seats in use as 0018 counts them: the seats
-- assigned and those allocated to sites (0017). With a third of a pack
-- allocated, assigned alone could never reach 90 % (assigned + allocated
-- <= quantity), so the event never came. Its `assigned` is the API's
-- (assigned + allocated), and an allocation that brings the pack to 90 %
-- reports it too.
CREATE OR REPLACE FUNCTION licd_pack_low() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO events (vendor_id, type, data)
    VALUES (NEW.vendor_id, 'pack.low', jsonb_build_object('pack_id', NEW.pack_id,
            'quantity', NEW.quantity, 'assigned', NEW.assigned + NEW.allocated));
    RETURN NULL;
END $$;
DROP TRIGGER packs_low ON packs;
CREATE TRIGGER packs_low AFTER UPDATE OF assigned, allocated, quantity ON packs
    FOR EACH ROW
    WHEN ((NEW.assigned::bigint + NEW.allocated) * 10 >= NEW.quantity::bigint * 9
          AND (OLD.assigned::bigint + OLD.allocated) * 10 < OLD.quantity::bigint * 9)
    EXECUTE FUNCTION licd_pack_low();
