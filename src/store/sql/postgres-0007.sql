-- PostgreSQL schema version 7: the rows of one INSERT into audit_log are numbered one after the
-- other, checked by the database itself. A group commit of audit records is one INSERT of many
-- rows; its numbers are consecutive because the numbering trigger runs row by row under the
-- advisory lock (version 1). inkand checked that on the numbers returned, inside a transaction
-- it then committed or rolled back: BEGIN, INSERT and COMMIT, three round trips per group. The
-- check is now a statement trigger over the rows the statement inserted, whose exception rolls
-- the statement back, so that the INSERT runs alone in its own transaction (one round trip)
-- and no INSERT of any writer can commit rows whose numbers leave a gap between them.
CREATE FUNCTION audit_log_consecutive() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
	lo BIGINT;
	hi BIGINT;
	n BIGINT;
BEGIN
	SELECT min(seq), max(seq), count(*) INTO lo, hi, n FROM inserted;
	IF n > 0 AND hi - lo + 1 <> n THEN
		RAISE EXCEPTION 'audit_log: the rows of one statement were not numbered one after the other';
	END IF;
	RETURN NULL;
END;
$$;
CREATE TRIGGER audit_log_consecutive AFTER INSERT ON audit_log
	REFERENCING NEW TABLE AS inserted FOR EACH STATEMENT EXECUTE FUNCTION audit_log_consecutive();
