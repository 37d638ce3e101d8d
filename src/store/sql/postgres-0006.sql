-- PostgreSQL schema version 6: an audit record's detail is kept out of line without a
-- compression attempt. A signHash's detail names its hashes (about 4.4 KB at batch 100): over
-- PostgreSQL's 2 KB threshold each such row went through pglz first, and hashes do not compress
-- (pglz gives up below 25 % saved), so the row was stored out of line, uncompressed, after an
-- attempt that cost 7 % of PostgreSQL's CPU in inkan-bench's signHash phase
-- (docs/performance.md). EXTERNAL stores it the same way without the attempt. Rows already
-- written stay as they are; nothing is rewritten.
ALTER TABLE audit_log ALTER COLUMN detail SET STORAGE EXTERNAL;
