-- Small attachments are kept in the database with their row (one transaction, no file to create or sync);
-- content is NULL for a file stored in the data directory.
ALTER TABLE out_files ADD COLUMN content BLOB;
