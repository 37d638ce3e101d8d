/* audit: the audit trail. Every security-relevant event goes through audit_append(); nothing
 * else writes the audit rows, and nothing updates or deletes them. */
#ifndef INKAN_AUDIT_H
#define INKAN_AUDIT_H

#include <jansson.h>

#include "common/common.h"
#include "store/store.h"

/* One event. NULL fields are recorded as "-". Values are truncated to the store's limits and
 * must never contain a secret (password, PIN, OTP, token, seed, key). */
struct audit_event {
	const char *actor;       /* username, or NULL for the system / an unknown caller */
	const char *role;        /* roles the actor acted with, e.g. "registration_officer" */
	const char *action;      /* dotted event name, e.g. "auth.login", "user.create" */
	const char *subject;     /* the object acted on: a username, credential id, serial */
	const char *result;      /* "success", or a short reason of refusal/failure */
	const char *request_id;
	const char *source;      /* client address */
	const char *detail;      /* optional free text */
	int64_t time;            /* UTC seconds; 0: now (the SAM's own records keep their time) */
};

#define AUDIT_SUCCESS "success"

/* Appends one record, stamped with the current UTC time; durable on return. A failure to
 * write the audit trail is an error the caller must treat as fatal for the operation. */
int audit_append(struct store *st, const struct audit_event *ev) INK_WUR;
/* Appends up to AUDIT_MANY_MAX records in one durable commit (in order, one time stamp). */
#define AUDIT_MANY_MAX 32
int audit_append_many(struct store *st, const struct audit_event *evs, size_t n) INK_WUR;
/* The record ev becomes (fields truncated to the store's limits, control characters as '?',
 * empty ones "-"), at time (or ev->time when set); seq 0. */
void audit_record_fill(struct store_audit_rec *rec, const struct audit_event *ev, int64_t time);
/* Reads records with seq > after (at most limit); *out malloc'd, free() it. */
int audit_read(struct store *st, int64_t after, size_t limit, struct store_audit_rec **out,
               size_t *n) INK_WUR;

/* ---- refusals of requests nobody authenticated (refusals.c) ----
 * Counted per source address so that a flood of them costs a bounded number of records: the
 * first burst refusals of each action from a source in an interval are records of their own,
 * the rest are counted, and when the interval ends each source that had refusals counted gets
 * one "audit.refusals" record with the counts per action and reason (docs/audit.md). A table
 * of slots sources; sources beyond it are counted together as "other-sources". */
struct audit_refusals;
/* interval in seconds; slots a power of two (at most 65536). */
int audit_refusals_new(struct store *st, int64_t interval, unsigned burst, size_t slots,
                       struct audit_refusals **out) INK_WUR;
void audit_refusals_free(struct audit_refusals *ar);
/* Records the refusal ev from source key (NULL: ev->source; e.g. an IPv6 address's /64): at
 * once with audit_append() while the source's allowance for ev->action lasts and fewer than
 * AUDIT_REFUSAL_SINGLES records of their own were written in the interval, else as a count. */
#define AUDIT_REFUSAL_SINGLES 2000
int audit_refusal(struct audit_refusals *ar, const struct audit_event *ev, const char *key) INK_WUR;
/* Writes the records of the interval once it is over (all: now, as at shutdown) and starts
 * the next; *next is when the interval under way ends (0: no refusal counted since). */
int audit_refusals_flush(struct audit_refusals *ar, bool all, int64_t *next) INK_WUR;

/* ---- the tamper-evident log: RFC 9162 Merkle tree over canonical records ---- */

#define AUDIT_HASH_LEN 32          /* SHA-256 */
#define AUDIT_FRONTIER_MAX 64      /* one subtree root per bit of the tree size */
#define AUDIT_SIG_MAX 256          /* DER ECDSA P-384 signature, with room */
#define AUDIT_PROOF_MAX 64         /* hashes in an inclusion or consistency proof */

/* The canonical bytes of a record (docs/audit.md): u8 version 1, u64 seq, i64 time (both
 * big-endian), then actor, role, action, subject, result, request_id, source, detail, each
 * as u32 big-endian length and the bytes. *out malloc'd. */
int audit_entry_encode(const struct store_audit_rec *rec, uint8_t **out, size_t *len) INK_WUR;
/* SHA-256(0x00 || entry) of the record's canonical bytes. */
int audit_leaf_hash(const struct store_audit_rec *rec, uint8_t out[static AUDIT_HASH_LEN]) INK_WUR;
/* SHA-256(0x00 || data). */
void audit_hash_leaf_bytes(const uint8_t *data, size_t len, uint8_t out[static AUDIT_HASH_LEN]);
/* SHA-256(0x01 || l || r). */
void audit_hash_node(const uint8_t l[static AUDIT_HASH_LEN], const uint8_t r[static AUDIT_HASH_LEN],
                     uint8_t out[static AUDIT_HASH_LEN]);

/* The right edge of a tree: the roots of its perfect subtrees, largest first (one per set bit
 * of size). Enough to append leaves and compute the root without the leaves themselves. */
struct audit_frontier {
	uint64_t size;
	unsigned n;
	uint8_t h[AUDIT_FRONTIER_MAX][AUDIT_HASH_LEN];
};
void audit_frontier_add(struct audit_frontier *f, const uint8_t leaf[static AUDIT_HASH_LEN]);
/* MTH of the leaves added so far (SHA-256 of nothing for an empty tree). */
void audit_frontier_root(const struct audit_frontier *f, uint8_t out[static AUDIT_HASH_LEN]);
/* Serialised as the n subtree roots concatenated (the size is kept beside it). */
int audit_frontier_load(struct audit_frontier *f, uint64_t size, const uint8_t *hashes,
                        size_t len) INK_WUR;

/* RFC 9162 2.1.3.1: the inclusion path of leaf index m in the tree of the n leaf hashes. */
int audit_inclusion_proof(const uint8_t (*leaves)[AUDIT_HASH_LEN], uint64_t n, uint64_t m,
                          uint8_t (*path)[AUDIT_HASH_LEN], size_t *plen) INK_WUR;
/* RFC 9162 2.1.3.2: 0 when path proves leaf at index in a tree of size with this root. */
int audit_inclusion_verify(uint64_t index, uint64_t size, const uint8_t leaf[static AUDIT_HASH_LEN],
                           const uint8_t (*path)[AUDIT_HASH_LEN], size_t plen,
                           const uint8_t root[static AUDIT_HASH_LEN]) INK_WUR;
/* RFC 9162 2.1.4.1: the consistency proof between the first m and all n leaves. */
int audit_consistency_proof(const uint8_t (*leaves)[AUDIT_HASH_LEN], uint64_t n, uint64_t m,
                            uint8_t (*path)[AUDIT_HASH_LEN], size_t *plen) INK_WUR;
/* The same when the leaves before prefix->size were archived: leaves[0] is leaf prefix->size,
 * and the prefix is known by its frontier only (m must not be below it for inclusion). */
int audit_inclusion_proof_after(const struct audit_frontier *prefix,
                                const uint8_t (*leaves)[AUDIT_HASH_LEN], uint64_t n, uint64_t m,
                                uint8_t (*path)[AUDIT_HASH_LEN], size_t *plen) INK_WUR;
int audit_consistency_proof_after(const struct audit_frontier *prefix,
                                  const uint8_t (*leaves)[AUDIT_HASH_LEN], uint64_t n, uint64_t m,
                                  uint8_t (*path)[AUDIT_HASH_LEN], size_t *plen) INK_WUR;
/* RFC 9162 2.1.4.2: 0 when path proves the tree (m, root1) is a prefix of (n, root2). */
int audit_consistency_verify(uint64_t m, uint64_t n, const uint8_t root1[static AUDIT_HASH_LEN],
                             const uint8_t root2[static AUDIT_HASH_LEN],
                             const uint8_t (*path)[AUDIT_HASH_LEN], size_t plen) INK_WUR;

/* A signed tree head. The signature (ECDSA P-384, SHA-384, DER) covers exactly the text of
 * audit_head_text(): "inkan audit checkpoint v1\nsize=N\nroot=HEX\ntime=T\n". */
struct audit_head {
	uint64_t size;
	uint8_t root[AUDIT_HASH_LEN];
	int64_t time;
	uint8_t sig[AUDIT_SIG_MAX];
	size_t sig_len;
};
#define AUDIT_HEAD_TEXT_MAX 160
/* The signed text of h; returns its length. */
size_t audit_head_text(const struct audit_head *h, char out[static AUDIT_HEAD_TEXT_MAX]);
/* Verifies h->sig with the log public key (a SubjectPublicKeyInfo, DER). */
int audit_head_verify(const struct audit_head *h, const uint8_t *spki, size_t spki_len) INK_WUR;

/* ---- the SAM's attestation of itself (docs/compliance.md) ----
 * Signed by the same log key as the checkpoints, over a text that starts with a line of its own
 * (so neither can pass for the other): "inkan sam attestation v1\n", then "name=value\n" lines
 * in a fixed order, no control character in a value. */
#define AUDIT_ATTEST_PREFIX "inkan sam attestation v1\n"
#define AUDIT_ATTEST_MAX 16384
/* Verifies sig (ECDSA P-384, SHA-384, DER) over text with the log public key (SPKI DER). */
int audit_attest_verify(const char *text, const uint8_t *sig, size_t sig_len, const uint8_t *spki,
                        size_t spki_len) INK_WUR;
/* Parses an attestation's text into an object of name -> string (*out, new reference);
 * INK_ERR_INVALID for a text without the first line, a line without '=', a name twice. */
int audit_attest_parse(const char *text, json_t **out) INK_WUR;
/* The signature (hex) of a compliance report's "sam" object, decoded. */
int audit_attest_sig_from_json(const json_t *sam, uint8_t sig[static AUDIT_SIG_MAX],
                               size_t *len) INK_WUR;

/* ---- the verdicts resting on the attestation (verdicts.c; docs/compliance.md) ---- */

/* A claim's value ("" when absent), and as an integer (-1 when absent). */
const char *audit_claim(const json_t *claims, const char *name);
long long audit_claim_num(const json_t *claims, const char *name);
/* The verdict of control (its id: "9.2.1", "privsep", ...) from the SAM's claims: *met, and
 * note[notesz] saying what would meet it or why it is met. *whole: the claims alone decide the
 * control; else they decide the SAM's part of it, and when that is not met neither is the
 * control. INK_ERR_NOT_FOUND for a control the claims do not bear on. */
int audit_sam_verdict(const json_t *claims, const char *control, bool *met, bool *whole,
                      char *note, size_t notesz) INK_WUR;
/* The ids of the controls audit_sam_verdict() judges: up to max into ids; returns how many
 * there are. */
size_t audit_sam_controls(const char **ids, size_t max);

/* ---- checkpoints in inkand ----
 * The signer is inkan-sam: it is handed the leaf hashes appended since its last signed head
 * (from = that head's size), recomputes the root from its own frontier and signs. */
typedef int (*audit_signer_fn)(void *arg, uint64_t from, const uint8_t (*leaves)[AUDIT_HASH_LEN],
                               size_t n, struct audit_head *out);
/* Starts tracking appended leaves for checkpoints: signed_size is the signer's last head.
 * Records above it already in the store are read back and queued first (*recovered) when
 * the last head was not a clean stop's (a crash); after a clean stop (closed) nobody wrote
 * them through inkand, so they are counted in *foreign and never signed. */
int audit_log_start(struct store *st, uint64_t signed_size, bool closed, audit_signer_fn fn,
                    void *arg, uint64_t *recovered, uint64_t *foreign) INK_WUR;
/* Several inkand nodes write the store (PostgreSQL): each checkpoint hands the signer the
 * records above its last head as the database numbers them, every node's, read back then,
 * instead of the leaves of this process's own appends; the signer's refusal of a stale size
 * (another node signed first) reads back from its head. Records above a clean stop's head are
 * then another node's, never foreign. Set before audit_log_start. */
void audit_log_shared(bool shared);
/* Signs a checkpoint over every record appended so far and stores it. With out NULL there is
 * nothing to do when the last checkpoint already covers every record; with out, a head is
 * always signed afresh and returned. */
int audit_checkpoint(struct store *st, struct audit_head *out) INK_WUR;
/* The records appended and not yet under a signed checkpoint (*pending), and the size and time
 * (UTC seconds; 0 unknown) of the last signed head: the metrics' audit backlog. */
void audit_log_status(uint64_t *pending, uint64_t *signed_size, int64_t *signed_time);
/* Stops tracking (after the last checkpoint at shutdown). */
void audit_log_stop(void);
/* A clock that goes back by more than this many seconds is recorded as "clock.backwards". */
void audit_set_clock_tolerance(int64_t seconds);

/* ---- verification: the whole tree recomputed from the records ---- */

struct audit_verify_report {
	uint64_t records;          /* records read */
	uint64_t checkpoints;      /* checkpoints whose signature and root matched */
	uint64_t first_seq, last_seq;
	uint64_t covered;          /* size of the last matching checkpoint */
	int64_t bad_seq;           /* the first wrong record, or the first of the range holding it */
	char error[512];           /* the first problem, naming the place ("" when none) */
	char key_sha256[65];       /* SHA-256 of the log public key (SPKI DER), hex */
	bool anchored;             /* that key is the one the verifier was told to trust */
};

struct audit_verifier;
/* A verifier over records that start after the tree of prefix_size leaves whose frontier is
 * given (prefix_size 0: from the first record). Every checkpoint's signature is checked here;
 * INK_ERR_CRYPTO with rep->error set at the first bad one. */
int audit_verifier_new(const uint8_t *spki, size_t spki_len, const struct store_checkpoint *cps,
                       size_t ncp, uint64_t prefix_size, const uint8_t *frontier, size_t flen,
                       struct audit_verify_report *rep, struct audit_verifier **out) INK_WUR;
/* Feeds the next record; INK_ERR_CRYPTO with rep->error at the first problem. */
int audit_verifier_add(struct audit_verifier *v, const struct store_audit_rec *rec) INK_WUR;
/* After the last record: checkpoints beyond the records are a truncated log. */
int audit_verifier_finish(struct audit_verifier *v) INK_WUR;
void audit_verifier_free(struct audit_verifier *v);
/* The tree recomputed so far (to seed the verifier of the next page of records). */
void audit_verifier_frontier(const struct audit_verifier *v, struct audit_frontier *out);

/* Verifies the whole log in the store (every record from seq 1, every checkpoint) against the
 * log key spki; each record is also handed to fn (NULL: none), whose error stops it. *last: the
 * checkpoint of the largest tree (size 0 when there is none). */
int audit_store_verify(struct store *st, const uint8_t *spki, size_t spki_len,
                       int (*fn)(void *arg, const struct store_audit_rec *rec), void *arg,
                       struct store_checkpoint *last, struct audit_verify_report *rep) INK_WUR;

/* The log public key as PEM (*pem malloc'd) and back (*spki malloc'd). */
int audit_spki_to_pem(const uint8_t *spki, size_t len, char **pem) INK_WUR;
int audit_pem_to_spki(const char *pem, uint8_t **spki, size_t *len) INK_WUR;

/* The log key's fingerprint: SHA-256 of its SubjectPublicKeyInfo (DER) as 64 lowercase hex
 * digits (`openssl pkey -pubin -outform DER | sha256sum`). */
#define AUDIT_FPR_HEX 65
void audit_key_fingerprint(const uint8_t *spki, size_t len, char out[static AUDIT_FPR_HEX]);
/* Reads a fingerprint: 64 hex digits, either case, plain or in pairs separated by ':'. */
int audit_fingerprint_parse(const char *s, uint8_t out[static AUDIT_HASH_LEN]) INK_WUR;

/* What an offline verifier trusts: the log key itself (SPKI DER), or its fingerprint. Without
 * either (NULL, or neither set) a bundle is checked against its own key, which proves nothing
 * about who wrote it: rep->anchored stays false. */
struct audit_anchor {
	const uint8_t *spki;       /* or NULL */
	size_t spki_len;
	bool has_sha256;
	uint8_t sha256[AUDIT_HASH_LEN];
};

/* An export bundle (docs/audit.md): records seq from..to, the checkpoints in that range, the
 * frontier of the tree before from, and the log public key: everything a verifier needs. */
#define AUDIT_BUNDLE_FORMAT "inkan-audit-bundle/1"
int audit_bundle_build(struct store *st, int64_t from, int64_t to, const uint8_t *spki,
                       size_t spki_len, const struct audit_head *latest, json_t **out) INK_WUR;
/* Verifies a bundle offline. The bundle's key must be the anchor's (INK_ERR_CRYPTO, both
 * fingerprints named, when it is not); anchor NULL: see struct audit_anchor. */
int audit_bundle_verify(const json_t *bundle, const struct audit_anchor *anchor,
                        struct audit_verify_report *rep) INK_WUR;
/* The same for one page of a longer log: the bundle's prefix must equal *f (the tree the
 * previous pages made), which is then advanced past this page's records. */
int audit_bundle_verify_page(const json_t *bundle, const struct audit_anchor *anchor,
                             struct audit_frontier *f, struct audit_verify_report *rep) INK_WUR;
/* The leaf hashes of records 1..size, recomputed from the store (*out malloc'd); the
 * proofs of the API are made from them. INK_ERR_NOT_FOUND when fewer records exist. *prefix
 * is the empty tree (records are never deleted, archives are copies). */
int audit_read_leaves(struct store *st, uint64_t size, struct audit_frontier *prefix,
                      uint8_t (**out)[AUDIT_HASH_LEN]) INK_WUR;
/* The proofs of the API, from the tree kept in memory (tree.c): the hashes of its complete
 * subtrees of 32 leaves and more, read from the store at the first proof and extended as the
 * log grows, so that a proof costs O(log size) hashes and at most two reads of 32 records.
 * The tree of the first size records must have the root given (a signed checkpoint's), the
 * consistency proof's first tree of m records root_m too: INK_ERR_NOT_FOUND when the records
 * do not make them up (the kept hashes are then read afresh at the next proof). The paths are
 * those of audit_inclusion_proof() and audit_consistency_proof() over the same leaves. */
int audit_tree_inclusion(struct store *st, uint64_t size, const uint8_t root[static AUDIT_HASH_LEN],
                         uint64_t m, uint8_t (*path)[AUDIT_HASH_LEN], size_t *plen) INK_WUR;
int audit_tree_consistency(struct store *st, uint64_t size, const uint8_t root[static AUDIT_HASH_LEN],
                           uint64_t m, const uint8_t root_m[static AUDIT_HASH_LEN],
                           uint8_t (*path)[AUDIT_HASH_LEN], size_t *plen) INK_WUR;
/* Frees the kept tree (audit_log_stop() does; a store closed and another opened needs it). */
void audit_tree_forget(void);
/* Retention: moves the records up to the newest checkpoint whose last record is older than
 * cutoff (UTC seconds) into DIR/audit-<first>-<last>.json, an export bundle that verifies on
 * its own, records the archive with the tree's frontier, then deletes those rows. *first and
 * *last are 0 when nothing was due. */
int audit_archive(struct store *st, const char *dir, int64_t cutoff, const uint8_t *spki,
                  size_t spki_len, int64_t *first, int64_t *last, char file[static 256],
                  char sha256[static 65]) INK_WUR;
/* A signed head as JSON: size, root (hex), time, signature (hex), signed_text. */
json_t *audit_head_json(const struct audit_head *h);
/* Reads a head back from that JSON; INK_ERR_INVALID when malformed. */
int audit_head_from_json(const json_t *o, struct audit_head *h) INK_WUR;
/* Proof paths as JSON arrays of hex strings and back (at most AUDIT_PROOF_MAX). */
json_t *audit_path_json(const uint8_t (*path)[AUDIT_HASH_LEN], size_t n);
int audit_path_from_json(const json_t *a, uint8_t (*path)[AUDIT_HASH_LEN], size_t *n) INK_WUR;
/* One record as the bundle and the API show it. */
json_t *audit_rec_json(const struct store_audit_rec *rec);
/* The record fields of a JSON object into rec; INK_ERR_INVALID when missing or too long. */
int audit_rec_from_json(const json_t *o, struct store_audit_rec *rec) INK_WUR;

#endif
