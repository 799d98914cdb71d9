-- Offline use, part one: borrowing. A concurrent pack may let a client take
-- a seat away for up to max_borrow_s seconds (0: never) as a borrowed lease,
-- which needs no heartbeats: it stays live (and counted in the pack's
-- assigned) until the borrow ends (its expires_at) or the client returns it.
ALTER TABLE packs
    ADD COLUMN max_borrow_s bigint NOT NULL DEFAULT 0
        CHECK (max_borrow_s BETWEEN 0 AND 31622400);
ALTER TABLE leases ADD COLUMN borrowed boolean NOT NULL DEFAULT false;
