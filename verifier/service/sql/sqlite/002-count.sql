-- SPDX-License-Identifier: Apache-2.0
-- Version 2: a row can stand for several refusals of one peer (serve
-- --reject-interval aggregates them).
ALTER TABLE verdicts ADD COLUMN count INTEGER NOT NULL DEFAULT 1;
