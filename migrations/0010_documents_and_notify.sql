-- Signed licences are kept with their row and handed back as they are on
-- recovery; a change of what a licence says clears its document, so a
-- stale one is never returned. And every change of a fact that licd nodes
-- cache (keys, products, a client's licence) is announced on the channel
-- licd_cache, so every node forgets its copy at once (store/notify.c).
ALTER TABLE assignments ADD COLUMN document text;

CREATE FUNCTION licd_assignment_claims_changed() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF (NEW.license_id, NEW.client_id, NEW.version, NEW.platform, NEW.serial, NEW.pack_id,
        NEW.expires_at, NEW.issued_at, NEW.temporary)
       IS DISTINCT FROM
       (OLD.license_id, OLD.client_id, OLD.version, OLD.platform, OLD.serial, OLD.pack_id,
        OLD.expires_at, OLD.issued_at, OLD.temporary) THEN
        NEW.document := NULL;
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER assignments_document_stale BEFORE UPDATE ON assignments
    FOR EACH ROW EXECUTE FUNCTION licd_assignment_claims_changed();

-- '<kind>:<key>' payloads; the key formats are those of the caches in store/.
CREATE FUNCTION licd_notify_key() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('licd_cache', 'key:' || encode(OLD.key_hash, 'hex'));
    RETURN NULL;
END $$;
CREATE TRIGGER customer_keys_changed AFTER UPDATE OR DELETE ON customer_keys
    FOR EACH ROW EXECUTE FUNCTION licd_notify_key();
CREATE TRIGGER vendor_api_keys_changed AFTER UPDATE OR DELETE ON vendor_api_keys
    FOR EACH ROW EXECUTE FUNCTION licd_notify_key();

-- The key caches hold the vendor or customer the key belongs to: a change
-- of those (a rename) empties them.
CREATE FUNCTION licd_notify_all_keys() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('licd_cache', 'key:*');
    RETURN NULL;
END $$;
CREATE TRIGGER vendors_changed AFTER UPDATE ON vendors
    FOR EACH STATEMENT EXECUTE FUNCTION licd_notify_all_keys();
CREATE TRIGGER customers_changed AFTER UPDATE ON customers
    FOR EACH STATEMENT EXECUTE FUNCTION licd_notify_all_keys();

CREATE FUNCTION licd_notify_product() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('licd_cache', 'product:' || OLD.vendor_id || ':' || OLD.code);
    RETURN NULL;
END $$;
CREATE TRIGGER products_changed AFTER UPDATE OR DELETE ON products
    FOR EACH ROW EXECUTE FUNCTION licd_notify_product();

-- Only changes that decide whether a client's licence may be handed back
-- (the grant that inserts a licence, and the saving of its document, stay
-- silent: a NOTIFY makes its transaction's commit take a global lock).
CREATE FUNCTION licd_notify_license() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('licd_cache', 'license:' || OLD.customer_id || ':' || OLD.product_id
                                    || ':' || OLD.client_id);
    RETURN NULL;
END $$;
CREATE TRIGGER assignments_changed AFTER UPDATE ON assignments
    FOR EACH ROW
    WHEN ((NEW.status, NEW.blocked, NEW.expires_at, NEW.client_id)
          IS DISTINCT FROM (OLD.status, OLD.blocked, OLD.expires_at, OLD.client_id))
    EXECUTE FUNCTION licd_notify_license();
CREATE TRIGGER assignments_deleted AFTER DELETE ON assignments
    FOR EACH ROW EXECUTE FUNCTION licd_notify_license();
