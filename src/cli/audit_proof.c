/* audit_proof: `inkan audit proof SEQ` (the inclusion proof of one record: a signer for their
 * own signatures, the auditor for any) and `inkan audit consistency FIRST [SECOND]` (between
 * two checkpoints). Both are checked here, against the signed heads and the log key. */
#include "cli/cli.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <stdlib.h>
#include <string.h>

#include "audit/audit.h"

#define PROOF_USAGE "audit proof SEQ [--out FILE] [--key PEM | --fingerprint SHA256-HEX]"
#define CONSISTENCY_USAGE "audit consistency FIRST [SECOND] [--key PEM | --fingerprint SHA256-HEX]"

/* The trust anchor asked for: the log key (--key) or its fingerprint (--fingerprint). */
struct proof_anchor {
	const char *keyfile;
	const char *fpr;
};

/* Takes --key and --fingerprint; 1 when ch was one of them, 0 when not, <0 on a bad value. */
static int
anchor_opt(int ch, struct proof_anchor *a)
{
	if (ch == 'k')
		a->keyfile = optarg;
	else if (ch == 'f')
		a->fpr = optarg;
	else
		return 0;
	return 1;
}

/* The log key of the answer into spki, checked against the anchor when one is given; *anchored
 * says whether it was. */
static int
answer_key(struct cli_ctx *c, const json_t *o, const struct proof_anchor *a, uint8_t **spki,
           size_t *len, bool *anchored)
{
	uint8_t *pin = NULL, want[AUDIT_HASH_LEN], got[AUDIT_HASH_LEN];
	size_t pin_len = 0;
	char *pem = NULL, fpr[AUDIT_FPR_HEX];
	unsigned int n = 0;
	int r;

	*anchored = false;
	if ((r = audit_pem_to_spki(json_string_value(json_object_get(o, "log_public_key")), spki,
	                           len)) != 0)
		return cli_fail(c, r, "the answer carries no readable log public key");
	if (a->fpr != NULL) {
		if (audit_fingerprint_parse(a->fpr, want) != 0)
			return cli_fail(c, CLI_ERR_USAGE, "--fingerprint: 64 hex digits (SHA-256 of the "
			                "log key's SubjectPublicKeyInfo)");
		audit_key_fingerprint(*spki, *len, fpr);
		if (!EVP_Digest(*spki, *len, got, &n, EVP_sha256(), NULL) || n != AUDIT_HASH_LEN ||
		    CRYPTO_memcmp(got, want, AUDIT_HASH_LEN) != 0)
			return cli_fail(c, INK_ERR_CRYPTO, "the log key (sha256 %s) is not the trusted "
			                "one", fpr);
		*anchored = true;
		return 0;
	}
	if (a->keyfile == NULL)
		return 0;
	if (ink_read_file(a->keyfile, 65536, &pem, NULL) != 0 ||
	    audit_pem_to_spki(pem, &pin, &pin_len) != 0)
		r = cli_fail(c, INK_ERR_INVALID, "%s: not a PEM public key", a->keyfile);
	else if (pin_len != *len || memcmp(pin, *spki, pin_len) != 0)
		r = cli_fail(c, INK_ERR_CRYPTO, "the log key is not the one in %s", a->keyfile);
	else
		*anchored = true;
	free(pem);
	free(pin);
	return r;
}

/* A proof checked only against the key the server sent proves nothing about who signed it. */
static int
unproven(struct cli_ctx *c, const uint8_t *spki, size_t len)
{
	char fpr[AUDIT_FPR_HEX];

	audit_key_fingerprint(spki, len, fpr);
	fprintf(stderr, "inkan: UNPROVEN: checked only against the log key the server sent (sha256 "
	        "%s), which anyone could have made; compare it with the fingerprint `inkan init` "
	        "printed and run again with --fingerprint or --key\n", fpr);
	c->reported = true;
	return CLI_ERR_UNPROVEN;
}

/* Checks an inclusion proof answer: the entry is the record's canonical bytes, its leaf
 * hash is in the signed tree. */
static int
check_inclusion(struct cli_ctx *c, const json_t *o, const uint8_t *spki, size_t len)
{
	uint8_t path[AUDIT_PROOF_MAX][AUDIT_HASH_LEN], leaf[AUDIT_HASH_LEN], *entry = NULL, *mine = NULL;
	struct store_audit_rec *rec = NULL;
	struct audit_head h;
	const json_t *idx = json_object_get(o, "leaf_index");
	size_t plen = 0, elen = 0, mlen = 0;
	int r = INK_ERR_CRYPTO;

	if ((rec = malloc(sizeof(*rec))) == NULL)
		return INK_ERR_ALLOC;
	if (audit_head_from_json(json_object_get(o, "checkpoint"), &h) != 0 || !json_is_integer(idx) ||
	    audit_path_from_json(json_object_get(o, "inclusion_path"), path, &plen) != 0 ||
	    audit_rec_from_json(json_object_get(o, "record"), rec) != 0 ||
	    b64_decode(json_string_value(json_object_get(o, "entry")), &entry, &elen) != 0) {
		r = cli_fail(c, INK_ERR_INVALID, "malformed proof");
		goto out;
	}
	if (audit_entry_encode(rec, &mine, &mlen) != 0 || mlen != elen || memcmp(mine, entry, elen) != 0) {
		r = cli_fail(c, INK_ERR_CRYPTO, "the entry is not the record's canonical encoding");
		goto out;
	}
	audit_hash_leaf_bytes(entry, elen, leaf);
	if (audit_head_verify(&h, spki, len) != 0) {
		r = cli_fail(c, INK_ERR_CRYPTO, "the checkpoint signature does not verify");
		goto out;
	}
	if (audit_inclusion_verify((uint64_t)json_integer_value(idx), h.size, leaf,
	                           (const uint8_t (*)[AUDIT_HASH_LEN])path, plen, h.root) != 0) {
		r = cli_fail(c, INK_ERR_CRYPTO, "the inclusion proof does not lead to the checkpoint root");
		goto out;
	}
	r = 0;
out:
	free(rec);
	free(entry);
	free(mine);
	return r;
}

int
cli_audit_proof(struct cli_ctx *c, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "out", required_argument, NULL, 'o' },
		{ "key", required_argument, NULL, 'k' },
		{ "fingerprint", required_argument, NULL, 'f' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct proof_anchor anchor = { 0 };
	struct cli_resp resp;
	const char *out = NULL;
	uint8_t *spki = NULL;
	size_t len = 0;
	long long seq;
	char path[96];
	bool anchored = false;
	int ch, r;

	memset(&resp, 0, sizeof(resp));
	while ((ch = cli_getopt(argc, argv, "h", opts)) != -1) {
		if (anchor_opt(ch, &anchor))
			continue;
		switch (ch) {
		case 'o':
			out = optarg;
			break;
		case 'h':
			printf("usage: inkan %s\n", PROOF_USAGE);
			return 0;
		default:
			return cli_usage(PROOF_USAGE);
		}
	}
	if (optind != argc - 1 || cli_audit_num(argv[optind], 1, INT64_MAX, &seq) != 0)
		return cli_usage(PROOF_USAGE);
	snprintf(path, sizeof(path), "/api/v1/audit/proof?seq=%lld", seq);
	if ((r = cli_http(c, "GET", path, NULL, CLI_AUTH_BEARER, NULL, NULL, &resp)) != 0 ||
	    (r = answer_key(c, resp.json, &anchor, &spki, &len, &anchored)) != 0 ||
	    (r = check_inclusion(c, resp.json, spki, len)) != 0)
		goto done;
	if (out != NULL && json_dump_file(resp.json, out, JSON_INDENT(1)) != 0) {
		r = cli_fail(c, INK_ERR_IO, "cannot write %s", out);
		goto done;
	}
	if (c->json)
		r = cli_print_json(resp.json);
	else
		printf("record %lld is in the audit log: inclusion proof (%zu hashes) verified against "
		       "the checkpoint of size %lld signed by the log key\n", seq,
		       json_array_size(json_object_get(resp.json, "inclusion_path")),
		       (long long)json_integer_value(json_object_get(json_object_get(resp.json,
		       "checkpoint"), "size")));
	if (r == 0 && !anchored)
		r = unproven(c, spki, len);
done:
	free(spki);
	cli_resp_free(&resp);
	return r;
}

int
cli_audit_consistency(struct cli_ctx *c, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "key", required_argument, NULL, 'k' },
		{ "fingerprint", required_argument, NULL, 'f' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	uint8_t p[AUDIT_PROOF_MAX][AUDIT_HASH_LEN], *spki = NULL;
	struct proof_anchor anchor = { 0 };
	struct audit_head h1, h2;
	struct cli_resp resp;
	long long first, second = 0;
	size_t len = 0, plen = 0;
	char path[128];
	bool anchored = false;
	int ch, r;

	memset(&resp, 0, sizeof(resp));
	while ((ch = cli_getopt(argc, argv, "h", opts)) != -1) {
		if (anchor_opt(ch, &anchor))
			continue;
		switch (ch) {
		case 'h':
			printf("usage: inkan %s\n", CONSISTENCY_USAGE);
			return 0;
		default:
			return cli_usage(CONSISTENCY_USAGE);
		}
	}
	if (optind >= argc || argc - optind > 2 || cli_audit_num(argv[optind], 1, INT64_MAX, &first) != 0 ||
	    (argc - optind == 2 && cli_audit_num(argv[optind + 1], 1, INT64_MAX, &second) != 0))
		return cli_usage(CONSISTENCY_USAGE);
	snprintf(path, sizeof(path), "/api/v1/audit/consistency?first=%lld&second=%lld", first, second);
	if ((r = cli_http(c, "GET", path, NULL, CLI_AUTH_BEARER, NULL, NULL, &resp)) != 0 ||
	    (r = answer_key(c, resp.json, &anchor, &spki, &len, &anchored)) != 0)
		goto done;
	if (audit_head_from_json(json_object_get(resp.json, "first"), &h1) != 0 ||
	    audit_head_from_json(json_object_get(resp.json, "second"), &h2) != 0 ||
	    audit_path_from_json(json_object_get(resp.json, "consistency_path"), p, &plen) != 0) {
		r = cli_fail(c, INK_ERR_INVALID, "malformed consistency proof");
		goto done;
	}
	if (audit_head_verify(&h1, spki, len) != 0 || audit_head_verify(&h2, spki, len) != 0) {
		r = cli_fail(c, INK_ERR_CRYPTO, "a checkpoint signature does not verify");
		goto done;
	}
	if (audit_consistency_verify(h1.size, h2.size, h1.root, h2.root,
	                             (const uint8_t (*)[AUDIT_HASH_LEN])p, plen) != 0) {
		r = cli_fail(c, INK_ERR_CRYPTO, "the tree of size %llu is NOT a prefix of the tree of "
		             "size %llu", (unsigned long long)h1.size, (unsigned long long)h2.size);
		goto done;
	}
	if (c->json)
		r = cli_print_json(resp.json);
	else
		printf("consistent: the checkpoint of size %llu is a prefix of the checkpoint of size "
		       "%llu (%zu hashes)\n", (unsigned long long)h1.size, (unsigned long long)h2.size,
		       plen);
	if (r == 0 && !anchored)
		r = unproven(c, spki, len);
done:
	free(spki);
	cli_resp_free(&resp);
	return r;
}
