-- The rows a grant writes (its pack's, the licence's, the event's) checked
-- at a cost paid once per session, not once per statement.
--
-- PostgreSQL reads a table's CHECK constraints and its triggers' WHEN
-- clauses back from their stored text every time a statement writes to the
-- table. For a grant that was about 15 kB of expression text a statement
-- (packs' twelve checks and three WHEN clauses, assignments' and events'
-- checks): perf gave stringToNode 13% of the backend's time. The same
-- rules on domains are compiled once per session (the type cache), and a
-- domain's check runs only where a value of the column is written, so
-- taking a seat (assigned, free_serials, seat_serial) runs none of them.
-- Checks that tie two columns together stay on their tables. Nothing that
-- was refused before is let through: the domains hold the same rules.
CREATE DOMAIN licd_pack_type AS text
    CHECK (VALUE IN ('per_device', 'per_user', 'concurrent', 'upgrade'));
CREATE DOMAIN licd_pack_quantity AS integer CHECK (VALUE BETWEEN 1 AND 100000000);
CREATE DOMAIN licd_begin_serial AS bigint CHECK (VALUE BETWEEN 1 AND 999999999999999);
CREATE DOMAIN licd_platform AS text
    CHECK (VALUE IN ('windows', 'non_windows', 'legacy', 'direct_connect', 'any'));
CREATE DOMAIN licd_json_object AS jsonb CHECK (jsonb_typeof(VALUE) = 'object');
CREATE DOMAIN licd_on_over_limit AS text CHECK (VALUE IN ('refuse', 'report'));
CREATE DOMAIN licd_borrow_seconds AS bigint CHECK (VALUE BETWEEN 0 AND 31622400);
CREATE DOMAIN licd_seat_count AS integer CHECK (VALUE >= 0);
CREATE DOMAIN licd_license_status AS text
    CHECK (VALUE IN ('active', 'retired', 'upgraded', 'deactivated'));
CREATE DOMAIN licd_event_type AS text
    CHECK (VALUE IN ('license.granted', 'license.temporary', 'seat.denied', 'clone.detected',
                     'usage.over_limit', 'pack.low', 'lease.lapsed'));
CREATE DOMAIN licd_client_id AS text CHECK (length(VALUE) BETWEEN 1 AND 256);

-- A pack's two BEFORE triggers (0018's peak, 0019's fit to its sites'
-- quantity) become one function without a WHEN clause: it tests in
-- PL/pgSQL, compiled once per session, what the clauses tested. The fit
-- comes first, so the peak follows the seats the row ends with.
CREATE FUNCTION packs_seats() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.site_quantity IS NOT NULL THEN
        NEW.quantity := greatest(NEW.site_quantity, NEW.assigned, 1);
        NEW.allocated := NEW.quantity - greatest(NEW.site_quantity, NEW.assigned);
    END IF;
    IF NEW.assigned + NEW.allocated > NEW.peak_in_use THEN
        NEW.peak_in_use := NEW.assigned + NEW.allocated;
    END IF;
    RETURN NEW;
END
$$;
-- The triggers name columns whose type changes: they go first, and 0021's
-- packs_low and 0010's assignments_changed come back as they were.
DROP TRIGGER assignments_changed ON assignments;
DROP TRIGGER packs_peak_in_use ON packs;
DROP TRIGGER packs_site_fit ON packs;
DROP TRIGGER packs_low ON packs;
DROP FUNCTION packs_peak_in_use();
DROP FUNCTION packs_site_fit();

ALTER TABLE packs
    DROP CONSTRAINT packs_type_check,
    DROP CONSTRAINT packs_quantity_check,
    DROP CONSTRAINT packs_begin_serial_check,
    DROP CONSTRAINT packs_platform_check,
    DROP CONSTRAINT packs_attributes_check,
    DROP CONSTRAINT packs_on_over_limit_check,
    DROP CONSTRAINT packs_max_borrow_s_check,
    DROP CONSTRAINT packs_allocated_check,
    DROP CONSTRAINT packs_site_quantity_check,
    ALTER COLUMN type TYPE licd_pack_type,
    ALTER COLUMN quantity TYPE licd_pack_quantity,
    ALTER COLUMN begin_serial TYPE licd_begin_serial,
    ALTER COLUMN platform TYPE licd_platform,
    ALTER COLUMN attributes TYPE licd_json_object,
    ALTER COLUMN on_over_limit TYPE licd_on_over_limit,
    ALTER COLUMN max_borrow_s TYPE licd_borrow_seconds,
    ALTER COLUMN allocated TYPE licd_seat_count,
    ALTER COLUMN site_quantity TYPE licd_seat_count;
ALTER TABLE assignments
    DROP CONSTRAINT assignments_status_check,
    ALTER COLUMN status TYPE licd_license_status;
ALTER TABLE events
    DROP CONSTRAINT events_type_check,
    ALTER COLUMN type TYPE licd_event_type;
ALTER TABLE leases
    DROP CONSTRAINT leases_client_id_check,
    ALTER COLUMN client_id TYPE licd_client_id;

CREATE TRIGGER packs_seats BEFORE INSERT OR UPDATE ON packs
    FOR EACH ROW EXECUTE FUNCTION packs_seats();
CREATE TRIGGER packs_low AFTER UPDATE OF assigned, allocated, quantity ON packs
    FOR EACH ROW
    WHEN ((NEW.assigned::bigint + NEW.allocated) * 10 >= NEW.quantity::bigint * 9
          AND (OLD.assigned::bigint + OLD.allocated) * 10 < OLD.quantity::bigint * 9)
    EXECUTE FUNCTION licd_pack_low();
CREATE TRIGGER assignments_changed AFTER UPDATE ON assignments
    FOR EACH ROW
    WHEN ((NEW.status, NEW.blocked, NEW.expires_at, NEW.client_id)
          IS DISTINCT FROM (OLD.status, OLD.blocked, OLD.expires_at, OLD.client_id))
    EXECUTE FUNCTION licd_notify_license();
