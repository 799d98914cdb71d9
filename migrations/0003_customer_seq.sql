-- A bigint that increases with every customer, so that GET /v1/customers pages
-- by it like every other list (customer ids are uuids, which do not order).
ALTER TABLE customers ADD COLUMN seq bigint GENERATED ALWAYS AS IDENTITY;
CREATE UNIQUE INDEX customers_vendor_seq ON customers (vendor_id, seq);
