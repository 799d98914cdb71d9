-- Operating group keys: revocation, what get_key does with a licence over its
-- resource limits, per-container quotas and container links; the licences of
-- copies (a clone presenting the same app and node as its original gets a
-- licence of its own, so that blocking it leaves the original's alone); and
-- the address a request claimed in its body, kept apart from the one it came
-- from.
ALTER TABLE group_keys
    ADD COLUMN revoked_at timestamptz,
    ADD COLUMN on_over_limit text NOT NULL DEFAULT 'refuse'
        CHECK (on_over_limit IN ('refuse', 'report')),
    DROP CONSTRAINT group_keys_link_type_check,
    ADD CONSTRAINT group_keys_link_type_check
        CHECK (link_type IN ('ip_range', 'domain', 'node', 'app', 'container'));
CREATE INDEX group_keys_customer ON group_keys (customer_id, id);

-- Distinct app ids holding an unexpired, unblocked activation key in one
-- container of a node (NULL: no limit per container).
ALTER TABLE group_key_products
    ADD COLUMN quota_per_container integer CHECK (quota_per_container BETWEEN 1 AND 1000000);

-- copy_of: the licence this activation copies (the licence an update
-- password was issued with, presented again from the same app and node);
-- NULL for the one original activation of a key, product, app and node.
ALTER TABLE activations
    ADD COLUMN copy_of text,
    ADD COLUMN claimed_ip inet,
    DROP CONSTRAINT activations_group_key_id_product_id_app_id_node_id_key;
CREATE UNIQUE INDEX activations_original ON activations (group_key_id, product_id, app_id, node_id)
    WHERE copy_of IS NULL;

ALTER TABLE update_password_evidence ADD COLUMN claimed_ip inet;
