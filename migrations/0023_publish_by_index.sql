-- licd_publish_events (0016) gives the unpublished events their seq in one
-- UPDATE joined to its own selection of them. Planned while events was
-- empty or nearly so (analyzed after a purge, or on a new server), that
-- join was a nested loop over a sequential scan of events: the table read
-- once for every event published, while the events of a burst of grants
-- piled up (121-174 ms a publication of a few thousand, in
-- tests/bench/run). The transaction held back the horizon all that time,
-- so the dead versions of a busy pack row could not be pruned: packs grew
-- to hundreds of pages within seconds and every grant slowed by half.
-- With sequential scans and hash and merge joins priced out, the plan left
-- is the one that fits any size: the events to publish from
-- events_unpublished, each row by the primary key. A later CREATE OR
-- REPLACE of the function must carry these settings again.
ALTER FUNCTION licd_publish_events(boolean, integer)
    SET enable_seqscan = off SET enable_hashjoin = off SET enable_mergejoin = off;
