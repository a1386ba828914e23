-- SPDX-License-Identifier: Apache-2.0
-- Version 3: tamper evidence.  Every new row carries chain =
-- SHA-256(the canonical text of the row and the previous row's chain), hex
-- (docs/deploy.md "Tamper evidence"); the verifier computes it inside the
-- write transaction, which SQLite serializes.  Rows written before this
-- version keep chain NULL and are reported as outside the chain.
-- chain_head is the chain's last link: a row removed from the end of the
-- log no longer matches it.
ALTER TABLE verdicts ADD COLUMN chain TEXT;
CREATE TABLE chain_head(
	one INTEGER PRIMARY KEY CHECK (one = 1),
	id INTEGER NOT NULL,
	chain TEXT NOT NULL);
INSERT INTO chain_head VALUES (1, 0,
	'0000000000000000000000000000000000000000000000000000000000000000');
CREATE TRIGGER chain_head_no_delete BEFORE DELETE ON chain_head
	BEGIN SELECT RAISE(ABORT, 'audit log is append-only'); END;
