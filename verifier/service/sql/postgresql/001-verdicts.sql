-- SPDX-License-Identifier: Apache-2.0
-- tdcpuid audit log, PostgreSQL, schema version 1 (docs/deploy.md).
--
-- Applied by tdcpuid-verifier when it connects as a role that may create
-- tables (the schema owner), or by hand: psql -1 -f 001-verdicts.sql.  The
-- service itself runs as a role that may only INSERT (roles.sql).
--
-- Single use of nonces is fleet-wide: UNIQUE(nonce), and the verdict's
-- row is the nonce's consumption, in the same transaction.  Row ids and the
-- hash chain are assigned by the database, under one lock, so every writer
-- of the fleet appends to one totally ordered chain.
DO $$
BEGIN
	IF current_setting('server_encoding') <> 'UTF8' THEN
		RAISE EXCEPTION 'tdcpuid audit log needs a UTF8 database, not %',
			current_setting('server_encoding');
	END IF;
END $$;

CREATE TABLE tdc_schema(
	version integer PRIMARY KEY,
	applied timestamptz NOT NULL DEFAULT now());

CREATE TABLE verdicts(
	id bigint PRIMARY KEY,          -- assigned by tdc_verdicts_link()
	time bigint NOT NULL,           -- unix seconds
	vm text NOT NULL,
	peer text NOT NULL,
	evidence_sha256 text,
	verdict text NOT NULL CHECK (verdict IN ('pass','fail','error','reject')),
	failing text NOT NULL DEFAULT '',
	nonce text UNIQUE,              -- single use, fleet-wide
	detail text NOT NULL DEFAULT '',
	count integer NOT NULL DEFAULT 1,
	chain text NOT NULL);           -- assigned by tdc_verdicts_link()
CREATE INDEX verdicts_vm_time ON verdicts(vm, time);
CREATE INDEX verdicts_time ON verdicts(time);

-- The chain's last link; its row lock is the fleet-wide append lock.
CREATE TABLE tdc_chain_head(
	one integer PRIMARY KEY CHECK (one = 1),
	id bigint NOT NULL,
	chain text NOT NULL);
INSERT INTO tdc_chain_head VALUES (1, 0, repeat('0', 64));

-- The canonical text of a row, hashed: the same bytes as tdc_audit_chain()
-- in verifier/service/audit.c builds, so either side can check the other.
CREATE FUNCTION tdc_chain_hash(prev text, r verdicts) RETURNS text
LANGUAGE sql IMMUTABLE AS $$
	SELECT encode(sha256(convert_to(
		'tdcpuid-audit-v1' || E'\n' || prev || E'\n' ||
		r.id::text || E'\n' || r.time::text || E'\n' || r.count::text || E'\n' ||
		r.verdict || E'\n' || coalesce(r.evidence_sha256, '') || E'\n' ||
		coalesce(r.nonce, '') || E'\n' ||
		octet_length(r.vm)::text || ':' || r.vm || E'\n' ||
		octet_length(r.peer)::text || ':' || r.peer || E'\n' ||
		octet_length(r.failing)::text || ':' || r.failing || E'\n' ||
		octet_length(r.detail)::text || ':' || r.detail, 'UTF8')), 'hex')
$$;

-- Before each insert: take the append lock (the head row), number the row
-- and link it.  SECURITY DEFINER: the service's role may not read the head.
CREATE FUNCTION tdc_verdicts_link() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path FROM CURRENT AS $$
DECLARE
	h tdc_chain_head%ROWTYPE;
BEGIN
	SELECT * INTO STRICT h FROM tdc_chain_head WHERE one = 1 FOR UPDATE;
	NEW.id := h.id + 1;
	NEW.count := coalesce(NEW.count, 1);
	NEW.chain := tdc_chain_hash(h.chain, NEW);
	RETURN NEW;
END $$;

-- After a row was really inserted (ON CONFLICT DO NOTHING skips this for a
-- replayed nonce), it becomes the head.
CREATE FUNCTION tdc_verdicts_advance() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path FROM CURRENT AS $$
BEGIN
	UPDATE tdc_chain_head SET id = NEW.id, chain = NEW.chain WHERE one = 1;
	RETURN NULL;
END $$;

CREATE FUNCTION tdc_append_only() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
	RAISE EXCEPTION 'audit log is append-only';
END $$;

CREATE TRIGGER verdicts_link BEFORE INSERT ON verdicts
	FOR EACH ROW EXECUTE FUNCTION tdc_verdicts_link();
CREATE TRIGGER verdicts_advance AFTER INSERT ON verdicts
	FOR EACH ROW EXECUTE FUNCTION tdc_verdicts_advance();
-- Even the owner: rewriting history takes dropping a trigger first, which
-- the hash chain then shows.
CREATE TRIGGER verdicts_no_update BEFORE UPDATE OR DELETE ON verdicts
	FOR EACH ROW EXECUTE FUNCTION tdc_append_only();
CREATE TRIGGER verdicts_no_truncate BEFORE TRUNCATE ON verdicts
	FOR EACH STATEMENT EXECUTE FUNCTION tdc_append_only();

REVOKE ALL ON verdicts, tdc_schema, tdc_chain_head FROM PUBLIC;
REVOKE ALL ON FUNCTION tdc_verdicts_link(), tdc_verdicts_advance() FROM PUBLIC;
