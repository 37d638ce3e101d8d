/* seed_audit: writes the seeds of corpus/audit/ — export bundles (whole and partial) of a small
 * audit log signed by a throw-away key (one with its key's fingerprint beside it), and an
 * inclusion and a consistency proof as the API gives them.
 * Usage: fuzz-seed-audit OUTDIR (make_corpus.sh runs it). */
#include <jansson.h>
#include <openssl/evp.h>
#include <openssl/x509.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "audit/audit.h"
#include "common/common.h"
#include "store/store.h"

struct signer {
	EVP_PKEY *key;
	struct audit_frontier f;
};

/* The SAM's part, in process: signs the head over the leaves so far. */
static int
sign_head(void *arg, uint64_t from, const uint8_t (*leaves)[AUDIT_HASH_LEN], size_t n,
          struct audit_head *out)
{
	struct signer *sg = arg;
	char text[AUDIT_HEAD_TEXT_MAX];
	EVP_MD_CTX *md = NULL;
	size_t i, tl, sl = sizeof(out->sig);
	int r = INK_ERR_CRYPTO;

	if (from != sg->f.size || (md = EVP_MD_CTX_new()) == NULL)
		return INK_ERR_INTERNAL;
	for (i = 0; i < n; i++)
		audit_frontier_add(&sg->f, leaves[i]);
	memset(out, 0, sizeof(*out));
	out->size = sg->f.size;
	audit_frontier_root(&sg->f, out->root);
	out->time = 1790000000 + (int64_t)out->size;
	tl = audit_head_text(out, text);
	if (EVP_DigestSignInit(md, NULL, EVP_sha384(), NULL, sg->key) == 1 &&
	    EVP_DigestSign(md, out->sig, &sl, (const uint8_t *)text, tl) == 1) {
		out->sig_len = sl;
		r = 0;
	}
	EVP_MD_CTX_free(md);
	return r;
}

static void
save(const char *dir, const char *name, json_t *j)
{
	char path[512];

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	if (j == NULL || json_dump_file(j, path, JSON_COMPACT | JSON_SORT_KEYS) != 0) {
		fprintf(stderr, "seed_audit: cannot write %s\n", path);
		exit(1);
	}
	json_decref(j);
}

#define CHECK(x) do { if ((x) != 0) { fprintf(stderr, "seed_audit: %s failed\n", #x); exit(1); } } while (0)

int
main(int argc, char **argv)
{
	static struct signer sg;
	static uint8_t path[AUDIT_PROOF_MAX][AUDIT_HASH_LEN];
	struct audit_event ev = {
		.actor = "alice", .role = "signer", .action = "csc.signHash", .subject = "cred-1",
		.result = AUDIT_SUCCESS, .request_id = "r1", .source = "127.0.0.1", .detail = "n=1",
	};
	char dir[] = "/tmp/inkan-seed-audit-XXXXXX", db[64];
	struct audit_frontier prefix;
	struct audit_head h1, h2;
	struct store_audit_rec *recs = NULL;
	struct store *st = NULL;
	uint8_t (*leaves)[AUDIT_HASH_LEN] = NULL, *spki = NULL, *entry = NULL;
	size_t plen = 0, nrec = 0, elen = 0;
	uint64_t rec_n = 0, foreign = 0;
	char *b64 = NULL;
	int i, len;

	if (argc != 2) {
		fprintf(stderr, "usage: fuzz-seed-audit OUTDIR\n");
		return 2;
	}
	ink_log_init("seed_audit", INK_LOG_WARN);
	if (mkdtemp(dir) == NULL)
		return 1;
	snprintf(db, sizeof(db), "%s/inkan.db", dir);
	CHECK(store_open(db, &st));
	if ((sg.key = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-384")) == NULL ||
	    (len = i2d_PUBKEY(sg.key, &spki)) <= 0)
		return 1;
	CHECK(audit_log_start(st, 0, false, sign_head, &sg, &rec_n, &foreign));
	for (i = 0; i < 5; i++)
		CHECK(audit_append(st, &ev));
	CHECK(audit_checkpoint(st, &h1));
	ev.action = "auth.login";
	ev.result = "bad password";
	ev.detail = "";
	for (i = 0; i < 4; i++)
		CHECK(audit_append(st, &ev));
	CHECK(audit_checkpoint(st, &h2));

	{
		json_t *b = NULL;

		uint8_t fp[32];
		char hex[65];

		CHECK(audit_bundle_build(st, 1, 0, spki, (size_t)len, &h2, &b));
		save(argv[1], "bundle-full.json", json_incref(b));
		/* With the key's fingerprint, as `inkan audit verify --fingerprint` is given it. */
		if (EVP_Digest(spki, (size_t)len, fp, NULL, EVP_sha256(), NULL) != 1)
			return 1;
		hex_encode(fp, sizeof(fp), hex);
		json_object_set_new(b, "fingerprint", json_string(hex));
		save(argv[1], "bundle-anchored.json", b);
		CHECK(audit_bundle_build(st, 3, 7, spki, (size_t)len, &h2, &b));
		save(argv[1], "bundle-part.json", b);
	}
	/* The proofs of record 3 in the second head, and of the first head in the second. */
	CHECK(audit_read_leaves(st, h2.size, &prefix, &leaves));
	CHECK(audit_read(st, 0, 100, &recs, &nrec));
	CHECK(audit_inclusion_proof((const uint8_t (*)[AUDIT_HASH_LEN])leaves, h2.size, 2, path, &plen));
	CHECK(audit_entry_encode(&recs[2], &entry, &elen));
	CHECK(b64_encode(entry, elen, &b64));
	save(argv[1], "inclusion.json",
	     json_pack("{s:o, s:I, s:o, s:o, s:s}", "checkpoint", audit_head_json(&h2), "leaf_index",
	               (json_int_t)2, "inclusion_path",
	               audit_path_json((const uint8_t (*)[AUDIT_HASH_LEN])path, plen),
	               "record", audit_rec_json(&recs[2]), "entry", b64));
	CHECK(audit_consistency_proof((const uint8_t (*)[AUDIT_HASH_LEN])leaves, h2.size, h1.size,
	                              path, &plen));
	save(argv[1], "consistency.json",
	     json_pack("{s:o, s:o, s:o}", "first", audit_head_json(&h1), "second",
	               audit_head_json(&h2), "consistency_path",
	               audit_path_json((const uint8_t (*)[AUDIT_HASH_LEN])path, plen)));
	audit_log_stop();
	store_close(st);
	snprintf(db, sizeof(db), "%s/inkan.db", dir);
	(void)unlink(db);
	snprintf(db, sizeof(db), "%s/inkan.db-wal", dir);
	(void)unlink(db);
	snprintf(db, sizeof(db), "%s/inkan.db-shm", dir);
	(void)unlink(db);
	(void)rmdir(dir);
	free(b64);
	free(entry);
	free(recs);
	free(leaves);
	OPENSSL_free(spki);
	EVP_PKEY_free(sg.key);
	return 0;
}
