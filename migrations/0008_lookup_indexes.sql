-- Indexes for queries that had none: a client's live lease (looked up on
-- every checkout, under the pack locks), a vendor's assignments in id order
-- (the listing's pages), and the age of failed logins, challenges and
-- released leases (the maintenance thread's purges).
CREATE INDEX leases_by_client ON leases (customer_id, product_id, client_id)
    WHERE released_at IS NULL;
CREATE INDEX leases_released ON leases (released_at) WHERE released_at IS NOT NULL;
CREATE INDEX assignments_by_vendor ON assignments (vendor_id, id);
CREATE INDEX login_failures_age ON login_failures (at);
CREATE INDEX session_tokens_expiry ON session_tokens (expires_at);
