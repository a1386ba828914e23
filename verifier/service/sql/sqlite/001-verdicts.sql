-- SPDX-License-Identifier: Apache-2.0
-- tdcpuid audit log, SQLite, schema version 1: one row per verdict.
-- Applied by tdcpuid-verifier itself (PRAGMA user_version counts the
-- versions applied); kept here so that the schema can be read and audited.
CREATE TABLE IF NOT EXISTS verdicts(
	id INTEGER PRIMARY KEY AUTOINCREMENT,
	time INTEGER NOT NULL,
	vm TEXT NOT NULL,
	peer TEXT NOT NULL,
	evidence_sha256 TEXT,
	verdict TEXT NOT NULL CHECK (verdict IN ('pass','fail','error','reject')),
	failing TEXT NOT NULL DEFAULT '',
	nonce TEXT UNIQUE,          -- single use across every writer of this file
	detail TEXT NOT NULL DEFAULT '');
CREATE INDEX IF NOT EXISTS verdicts_vm_time ON verdicts(vm, time);
CREATE INDEX IF NOT EXISTS verdicts_time ON verdicts(time);
-- Append-only, whoever opens the file.
CREATE TRIGGER IF NOT EXISTS verdicts_no_update BEFORE UPDATE ON verdicts
	BEGIN SELECT RAISE(ABORT, 'audit log is append-only'); END;
CREATE TRIGGER IF NOT EXISTS verdicts_no_delete BEFORE DELETE ON verdicts
	BEGIN SELECT RAISE(ABORT, 'audit log is append-only'); END;
