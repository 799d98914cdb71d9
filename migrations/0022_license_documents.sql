-- Signed licences in a table of their own. Saving one was an UPDATE of its
-- licence's row, which seldom fits the row's page: a new version of a wide
-- row, an entry in each of assignments' nine indexes and a dead row to
-- vacuum, for every licence granted. Now it is the insert of a narrow row
-- with one index (an update of it when signed again after a key rotation).
-- A document is its licence's while the row is the version it was signed
-- for (row_version: the row's xmin then); get_key compares the two, so any
-- change of the row after the signing, even one racing the save, leaves the
-- document unused and the licence is signed again.
CREATE TABLE license_documents (
    assignment_id bigint PRIMARY KEY,
    row_version text NOT NULL,
    document text NOT NULL
);
-- Documents kept so far are current: the trigger dropped here cleared them
-- whenever what a licence says changed.
INSERT INTO license_documents (assignment_id, row_version, document)
    SELECT id, xmin::text, document FROM assignments WHERE document IS NOT NULL;
DROP TRIGGER assignments_document_stale ON assignments;
DROP FUNCTION licd_assignment_claims_changed();
ALTER TABLE assignments DROP COLUMN document;

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
