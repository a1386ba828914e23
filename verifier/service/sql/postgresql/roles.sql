-- SPDX-License-Identifier: Apache-2.0
-- Grants for a tdcpuid fleet (docs/deploy.md "Roles").  Run as the owner of
-- the schema, after the versioned files, with the role names as psql
-- variables:
--   psql -v service=tdc_service -v reader=tdc_reader -f roles.sql
--
-- service: what `serve` and `ingest` connect as.  It can add rows and learn
--          their id (RETURNING id), nothing else: no UPDATE, no DELETE, no
--          TRUNCATE, no reading other rows, no setting id or chain (the
--          database assigns them).
-- reader:  `log` and `log --check`: reads the log, writes nothing.
GRANT SELECT ON tdc_schema TO :"service", :"reader";
GRANT INSERT (time, vm, peer, evidence_sha256, verdict, failing, nonce, detail, count)
	ON verdicts TO :"service";
GRANT SELECT (id) ON verdicts TO :"service";
GRANT SELECT ON verdicts, tdc_chain_head TO :"reader";
