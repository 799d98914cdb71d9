-- get_key finds a client's licences by customer, product and client; the
-- partial unique indexes do not match its conditions, so without this index
-- every grant read all of the customer's licences while holding the pack row.
CREATE INDEX assignments_by_client ON assignments (customer_id, product_id, client_id);
