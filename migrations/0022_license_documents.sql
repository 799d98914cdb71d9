-- Signed licences in a table of their own. Saving one was an UPDATE of its
-- licence's row, which seldom fits the row's page: a new version of a wide
-- row, an entry in each of assignments' nine indexes and a dead row to
-- vacuum, for every licence granted. Now it is the insert of a narrow row
-- with one index (an update of it when signed again after a key rotation).
-- A document is its licence's while what the licence says is what it was
-- signed for: claims_version is an MD5 of the columns the licence's claims
-- come from (those 0010's trigger watched; times as epochs, which no
-- session setting changes), and get_key compares it with the same MD5 of
-- the row as it reads it. A change of those columns, even one racing the
-- save, leaves the document unused and the licence is signed again; a dump
-- and restore keeps every document valid.
CREATE TABLE license_documents (
    assignment_id bigint PRIMARY KEY,
    claims_version text NOT NULL,
    document text NOT NULL
);
-- Documents kept so far are current: 0010's trigger cleared them whenever
-- what a licence says changed. (The expression is grants.c's CLAIMS_VERSION.)
INSERT INTO license_documents (assignment_id, claims_version, document)
    SELECT id, md5(row(license_id, client_id, version, platform, serial, pack_id,
                       extract(epoch FROM expires_at), extract(epoch FROM issued_at),
                       temporary)::text), document
    FROM assignments WHERE document IS NOT NULL;
-- assignments.document and its trigger stay while nodes of the previous
-- release (which read and write them) may still run beside this one; a
-- later migration drops them.

-- Deleted licences take their documents along (no foreign key: checking
-- one would lock the licence's row at every save).
CREATE FUNCTION licd_license_documents_gone() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM license_documents d USING gone WHERE d.assignment_id = gone.id;
    RETURN NULL;
END $$;
CREATE TRIGGER assignments_documents_gone AFTER DELETE ON assignments
    REFERENCING OLD TABLE AS gone FOR EACH STATEMENT
    EXECUTE FUNCTION licd_license_documents_gone();
