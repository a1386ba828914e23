/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Strict reading of untrusted JSON (requested-configuration importers,
 * policies, capture files) on top of jansson.
 *
 * Every helper names the input (@what, usually the file name) and the JSON
 * path of the offending value, so errors read
 *   "req.json: entries[3].eax: expected integer 0..0xffffffff".
 * Paths are built by the caller with tdc_json_path(); they are only used for
 * messages.
 *
 * Integers: a JSON integer >= 0, or a string "0x" + 1..16 hex digits (JSON
 * numbers cannot portably carry 64-bit masks, and hex is how CPUID values
 * are written everywhere else).  Reals, negatives, booleans are rejected.
 */
#ifndef TDCPUID_JSON_H
#define TDCPUID_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

/* Longest JSON path kept for messages ("cpus[12].feature-words[31].features"). */
#define TDC_JSON_PATH_MAX 160

/*
 * Parse @len bytes (refusing more than @cap before jansson sees them) with
 * duplicate object keys rejected.  Errors name @what, line and column.
 */
int tdc_json_parse(const uint8_t *data, size_t len, size_t cap, const char *what,
		   json_t **out);

/* "parent.key" or "parent[idx]" into @buf (parent "" gives "key"). */
const char *tdc_json_path(char *buf, size_t len, const char *parent, const char *key);
const char *tdc_json_path_idx(char *buf, size_t len, const char *parent, size_t idx);

/*
 * @v must be an object whose keys are all in the NULL-terminated @allowed;
 * else TDC_ERR_TYPE / TDC_ERR_FORMAT naming the first unknown key.
 */
int tdc_json_check_object(const json_t *v, const char *const *allowed,
			  const char *what, const char *path);

/* Member lookup: TDC_ERR_MISSING naming "path.key" if absent and @required. */
int tdc_json_member(const json_t *obj, const char *key, bool required,
		    const char *what, const char *path, json_t **out);

int tdc_json_u64(const json_t *v, uint64_t max, const char *what, const char *path,
		 uint64_t *out);
int tdc_json_u32(const json_t *v, const char *what, const char *path, uint32_t *out);
int tdc_json_bool(const json_t *v, const char *what, const char *path, bool *out);
/* String of 1..@maxlen bytes without NUL; borrowed from @v. */
int tdc_json_string(const json_t *v, size_t maxlen, const char *what, const char *path,
		    const char **out);
/* Hex string of exactly @len bytes (2*@len digits, optional "0x"). */
int tdc_json_hex(const json_t *v, uint8_t *out, size_t len, const char *what,
		 const char *path);
/* Array of at most @max elements. */
int tdc_json_array(const json_t *v, size_t max, const char *what, const char *path,
		   size_t *n);

/* Writing: "0x%08x", "0x%016x" and plain lowercase hex bytes (any length). */
json_t *tdc_json_hex32(uint32_t v);
json_t *tdc_json_hex64(uint64_t v);
json_t *tdc_json_hexbytes(const uint8_t *p, size_t n);

#endif
