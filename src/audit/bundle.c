/* bundle: the audit log's export bundle — records, checkpoints, the frontier before the first
 * record and the log public key in one JSON document that verifies with nothing else. */
#include "audit/audit.h"

#include <openssl/bio.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/sha.h>
#include <openssl/x509.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PAGE 10000

/* The tree at the end of the latest archive (empty when none), where the next one starts;
 * arch names it. */
static int
prefix_from_archive(struct store *st, struct audit_frontier *f, char arch[static STORE_TEXT_MAX + 160])
{
	struct store_archive a;
	int r;

	memset(f, 0, sizeof(*f));
	arch[0] = '\0';
	if ((r = st->ops->archive_last(st, &a)) == INK_ERR_NOT_FOUND)
		return 0;
	if (r != 0)
		return r;
	if ((r = audit_frontier_load(f, (uint64_t)a.last_seq, a.frontier, a.frontier_len)) != 0)
		return INK_ERR_STORE;
	snprintf(arch, STORE_TEXT_MAX + 160, "records 1..%lld are in the archive %s (sha256 %s)",
	         (long long)a.last_seq, a.file, a.sha256);
	return 0;
}

static int unhex(const json_t *v, uint8_t *out, size_t max, size_t *len);

/* Adds the leaves of the records after f's last one up to seq upto (as they are: a gap is
 * the verifier's to report); *last is the last seq added. */
static int
frontier_advance(struct store *st, struct audit_frontier *f, int64_t upto, int64_t *last)
{
	struct store_audit_rec *v = NULL;
	uint8_t leaf[AUDIT_HASH_LEN];
	int64_t after = (int64_t)f->size;
	size_t n = 0, i;
	int r = 0;

	*last = after;
	while (after < upto) {
		if ((r = st->ops->audit_list(st, after, PAGE, &v, &n)) != 0)
			break;
		for (i = 0; i < n && v[i].seq <= upto && r == 0; i++) {
			if ((r = audit_leaf_hash(&v[i], leaf)) == 0)
				audit_frontier_add(f, leaf);
			after = *last = v[i].seq;
		}
		free(v);
		v = NULL;
		if (r != 0 || n < PAGE || i < n)
			break;
	}
	return r;
}

int
audit_spki_to_pem(const uint8_t *spki, size_t len, char **pem)
{
	const uint8_t *p = spki;
	EVP_PKEY *pk = NULL;
	BIO *b = NULL;
	char *data = NULL;
	long n;
	int r = INK_ERR_CRYPTO;

	*pem = NULL;
	if ((pk = d2i_PUBKEY(NULL, &p, (long)len)) == NULL || (b = BIO_new(BIO_s_mem())) == NULL ||
	    PEM_write_bio_PUBKEY(b, pk) != 1 || (n = BIO_get_mem_data(b, &data)) <= 0)
		goto out;
	if ((*pem = malloc((size_t)n + 1)) == NULL) {
		r = INK_ERR_ALLOC;
		goto out;
	}
	memcpy(*pem, data, (size_t)n);
	(*pem)[n] = '\0';
	r = 0;
out:
	BIO_free(b);
	EVP_PKEY_free(pk);
	return r;
}

int
audit_pem_to_spki(const char *pem, uint8_t **spki, size_t *len)
{
	EVP_PKEY *pk = NULL;
	BIO *b = NULL;
	uint8_t *der = NULL;
	int n, r = INK_ERR_INVALID;

	*spki = NULL;
	*len = 0;
	if (pem == NULL || (b = BIO_new_mem_buf(pem, -1)) == NULL ||
	    (pk = PEM_read_bio_PUBKEY(b, NULL, NULL, NULL)) == NULL || (n = i2d_PUBKEY(pk, &der)) <= 0)
		goto out;
	if ((*spki = malloc((size_t)n)) == NULL) {
		r = INK_ERR_ALLOC;
		goto out;
	}
	memcpy(*spki, der, (size_t)n);
	*len = (size_t)n;
	r = 0;
out:
	OPENSSL_free(der);
	EVP_PKEY_free(pk);
	BIO_free(b);
	return r;
}

json_t *
audit_rec_json(const struct store_audit_rec *rec)
{
	char ts[21];

	ink_time_str(rec->time, ts);
	return json_pack("{s:I, s:I, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s}",
	                 "seq", (json_int_t)rec->seq, "time", (json_int_t)rec->time, "utc", ts,
	                 "actor", rec->actor, "role", rec->role, "action", rec->action,
	                 "subject", rec->subject, "result", rec->result,
	                 "request_id", rec->request_id, "source", rec->source, "detail", rec->detail);
}

static int
get_text(const json_t *o, const char *name, char *dst, size_t dstsz)
{
	const json_t *v = json_object_get(o, name);
	size_t n;

	if (!json_is_string(v) || (n = json_string_length(v)) >= dstsz ||
	    strlen(json_string_value(v)) != n)
		return INK_ERR_INVALID;
	memcpy(dst, json_string_value(v), n + 1);
	return 0;
}

int
audit_rec_from_json(const json_t *o, struct store_audit_rec *rec)
{
	const json_t *seq = json_object_get(o, "seq"), *t = json_object_get(o, "time");

	memset(rec, 0, sizeof(*rec));
	if (!json_is_integer(seq) || !json_is_integer(t))
		return INK_ERR_INVALID;
	rec->seq = json_integer_value(seq);
	rec->time = json_integer_value(t);
	if (get_text(o, "actor", rec->actor, sizeof(rec->actor)) != 0 ||
	    get_text(o, "role", rec->role, sizeof(rec->role)) != 0 ||
	    get_text(o, "action", rec->action, sizeof(rec->action)) != 0 ||
	    get_text(o, "subject", rec->subject, sizeof(rec->subject)) != 0 ||
	    get_text(o, "result", rec->result, sizeof(rec->result)) != 0 ||
	    get_text(o, "request_id", rec->request_id, sizeof(rec->request_id)) != 0 ||
	    get_text(o, "source", rec->source, sizeof(rec->source)) != 0 ||
	    get_text(o, "detail", rec->detail, sizeof(rec->detail)) != 0)
		return INK_ERR_INVALID;
	return 0;
}

static json_t *
hex_json(const uint8_t *p, size_t n)
{
	char hex[2 * AUDIT_SIG_MAX + 1];

	if (n > AUDIT_SIG_MAX)
		return NULL;
	hex_encode(p, n, hex);
	return json_string(hex);
}

static json_t *
cp_json(int64_t id, int64_t size, const uint8_t *root, int64_t time, const uint8_t *sig,
        size_t sig_len)
{
	return json_pack("{s:I, s:I, s:o, s:I, s:o}", "id", (json_int_t)id, "size", (json_int_t)size,
	                 "root", hex_json(root, AUDIT_HASH_LEN), "time", (json_int_t)time,
	                 "signature", hex_json(sig, sig_len));
}

static int
bundle_build(struct store *st, int64_t from, int64_t to, const uint8_t *spki, size_t spki_len,
             const struct audit_head *latest, json_t **out)
{
	struct store_audit_rec *v = NULL;
	struct store_checkpoint *cps = NULL;
	struct audit_frontier f;
	json_t *b = NULL, *recs, *cpa, *fr;
	char *pem = NULL;
	int64_t after = 0, last = 0;
	size_t n = 0, i, ncp = 0;
	int r;

	*out = NULL;
	memset(&f, 0, sizeof(f));
	if ((r = st->ops->audit_last_seq(st, &last)) != 0)
		return r;
	if (from < 1)
		from = 1;
	if (to <= 0 || to > last)
		to = last;
	if ((r = audit_spki_to_pem(spki, spki_len, &pem)) != 0)
		return r;
	/* the frontier before from: the records themselves stay out of the bundle */
	if ((r = frontier_advance(st, &f, from - 1, &after)) != 0)
		goto out;
	b = json_pack("{s:s, s:s, s:I, s:I}", "format", AUDIT_BUNDLE_FORMAT, "log_public_key", pem,
	              "from", (json_int_t)from, "to", (json_int_t)to);
	recs = json_array();
	cpa = json_array();
	fr = json_array();
	if (b == NULL || recs == NULL || cpa == NULL || fr == NULL) {
		json_decref(recs);
		json_decref(cpa);
		json_decref(fr);
		r = INK_ERR_ALLOC;
		goto out;
	}
	json_object_set_new(b, "records", recs);
	json_object_set_new(b, "checkpoints", cpa);
	for (i = 0; i < f.n; i++)
		json_array_append_new(fr, hex_json(f.h[i], AUDIT_HASH_LEN));
	json_object_set_new(b, "prefix", json_pack("{s:I, s:o}", "size", (json_int_t)f.size,
	                                            "frontier", fr));
	after = (int64_t)f.size;
	while (after < to) {
		size_t want = (size_t)(to - after) < PAGE ? (size_t)(to - after) : PAGE;

		if ((r = st->ops->audit_list(st, after, want, &v, &n)) != 0)
			goto out;
		for (i = 0; i < n; i++) {
			if (v[i].seq > to)
				break;
			json_array_append_new(recs, audit_rec_json(&v[i]));
			after = v[i].seq;
		}
		free(v);
		v = NULL;
		if (n < want || i < n)
			break;
	}
	if ((r = st->ops->checkpoint_list(st, (int64_t)f.size, to, &cps, &ncp)) != 0)
		goto out;
	for (i = 0; i < ncp; i++)
		json_array_append_new(cpa, cp_json(cps[i].id, cps[i].size, cps[i].root, cps[i].time,
		                                   cps[i].sig, cps[i].sig_len));
	/* the SAM's own latest head (id 0): a log cut short together with its checkpoint rows
	 * still meets this one */
	if (latest != NULL && latest->sig_len > 0 && (int64_t)latest->size >= (int64_t)f.size &&
	    (int64_t)latest->size <= to)
		json_array_append_new(cpa, cp_json(0, (int64_t)latest->size, latest->root,
		                                   latest->time, latest->sig, latest->sig_len));
	*out = b;
	b = NULL;
	r = 0;
out:
	free(v);
	free(cps);
	free(pem);
	json_decref(b);
	return r;
}

static int
unhex(const json_t *v, uint8_t *out, size_t max, size_t *len)
{
	const char *s = json_string_value(v);
	size_t n, i;
	unsigned hi, lo;

	if (s == NULL || (n = strlen(s)) % 2 != 0 || n / 2 > max)
		return INK_ERR_INVALID;
	for (i = 0; i < n / 2; i++) {
		if (sscanf(s + 2 * i, "%1x%1x", &hi, &lo) != 2)
			return INK_ERR_INVALID;
		out[i] = (uint8_t)(hi << 4 | lo);
	}
	*len = n / 2;
	return 0;
}

void
audit_key_fingerprint(const uint8_t *spki, size_t len, char out[static AUDIT_FPR_HEX])
{
	uint8_t dig[AUDIT_HASH_LEN];

	SHA256(spki, len, dig);
	hex_encode(dig, sizeof(dig), out);
}

int
audit_fingerprint_parse(const char *s, uint8_t out[static AUDIT_HASH_LEN])
{
	size_t i, n = 0;
	int hi, lo;

	for (i = 0; n < AUDIT_HASH_LEN; n++) {
		if (n > 0 && s[i] == ':')
			i++;
		if ((hi = OPENSSL_hexchar2int((unsigned char)s[i])) < 0 ||
		    (lo = OPENSSL_hexchar2int((unsigned char)s[i + 1])) < 0)
			return INK_ERR_INVALID;
		out[n] = (uint8_t)(hi << 4 | lo);
		i += 2;
	}
	return s[i] == '\0' ? 0 : INK_ERR_INVALID;
}

/* Whether the bundle's key spki is the anchor's; the mismatch named in rep->error. */
static int
anchor_check(const struct audit_anchor *a, const uint8_t *spki, size_t len,
             struct audit_verify_report *rep)
{
	uint8_t dig[AUDIT_HASH_LEN];
	char want[AUDIT_FPR_HEX];

	if (a == NULL || (a->spki == NULL && !a->has_sha256))
		return 0;
	SHA256(spki, len, dig);
	if (a->spki != NULL)
		audit_key_fingerprint(a->spki, a->spki_len, want);
	else
		hex_encode(a->sha256, sizeof(a->sha256), want);
	if ((a->spki != NULL && (a->spki_len != len || CRYPTO_memcmp(a->spki, spki, len) != 0)) ||
	    (a->spki == NULL && CRYPTO_memcmp(a->sha256, dig, sizeof(dig)) != 0)) {
		snprintf(rep->error, sizeof(rep->error), "the bundle's log public key (sha256 %s) is "
		         "not the trusted one (sha256 %s)", rep->key_sha256, want);
		return INK_ERR_CRYPTO;
	}
	return 0;
}

int
audit_bundle_verify(const json_t *bundle, const struct audit_anchor *anchor,
                    struct audit_verify_report *rep)
{
	return audit_bundle_verify_page(bundle, anchor, NULL, rep);
}

int
audit_bundle_verify_page(const json_t *bundle, const struct audit_anchor *anchor,
                         struct audit_frontier *f, struct audit_verify_report *rep)
{
	struct audit_verifier *ver = NULL;
	struct store_checkpoint *cps = NULL;
	struct store_audit_rec *rec = NULL;
	const json_t *recs, *cpa, *prefix, *fr, *e;
	uint8_t *spki = NULL, *fh = NULL;
	size_t spki_len = 0, ncp, i, len;
	const char *fmt;
	int r = INK_ERR_INVALID;

	memset(rep, 0, sizeof(*rep));
	fmt = json_string_value(json_object_get(bundle, "format"));
	recs = json_object_get(bundle, "records");
	cpa = json_object_get(bundle, "checkpoints");
	prefix = json_object_get(bundle, "prefix");
	fr = json_object_get(prefix, "frontier");
	if (fmt == NULL || strcmp(fmt, AUDIT_BUNDLE_FORMAT) != 0 || !json_is_array(recs) ||
	    !json_is_array(cpa) || !json_is_integer(json_object_get(prefix, "size")) ||
	    !json_is_array(fr) || json_array_size(fr) > AUDIT_FRONTIER_MAX) {
		snprintf(rep->error, sizeof(rep->error), "not an %s document", AUDIT_BUNDLE_FORMAT);
		return INK_ERR_INVALID;
	}
	if (audit_pem_to_spki(json_string_value(json_object_get(bundle, "log_public_key")), &spki,
	                      &spki_len) != 0) {
		snprintf(rep->error, sizeof(rep->error), "the bundle's log public key is unreadable");
		goto out;
	}
	audit_key_fingerprint(spki, spki_len, rep->key_sha256);
	if ((r = anchor_check(anchor, spki, spki_len, rep)) != 0)
		goto out;
	r = INK_ERR_INVALID;
	ncp = json_array_size(cpa);
	if ((cps = calloc(ncp + 1, sizeof(*cps))) == NULL ||
	    (fh = calloc(json_array_size(fr) + 1, AUDIT_HASH_LEN)) == NULL ||
	    (rec = malloc(sizeof(*rec))) == NULL) {
		r = INK_ERR_ALLOC;
		goto out;
	}
	json_array_foreach(cpa, i, e) {
		const json_t *id = json_object_get(e, "id"), *sz = json_object_get(e, "size"),
		             *t = json_object_get(e, "time");

		if (!json_is_integer(id) || !json_is_integer(sz) || !json_is_integer(t) ||
		    unhex(json_object_get(e, "root"), cps[i].root, AUDIT_HASH_LEN, &len) != 0 ||
		    len != AUDIT_HASH_LEN ||
		    unhex(json_object_get(e, "signature"), cps[i].sig, STORE_SIG_MAX,
		          &cps[i].sig_len) != 0) {
			snprintf(rep->error, sizeof(rep->error), "checkpoint entry %zu is malformed", i);
			goto out;
		}
		cps[i].id = json_integer_value(id);
		cps[i].size = json_integer_value(sz);
		cps[i].time = json_integer_value(t);
	}
	json_array_foreach(fr, i, e) {
		if (unhex(e, fh + i * AUDIT_HASH_LEN, AUDIT_HASH_LEN, &len) != 0 || len != AUDIT_HASH_LEN) {
			snprintf(rep->error, sizeof(rep->error), "the prefix frontier is malformed");
			goto out;
		}
	}
	if (f != NULL && (f->size != 0 || f->n != 0) && (f->size != (uint64_t)json_integer_value(json_object_get(prefix, "size")) ||
	                  f->n * AUDIT_HASH_LEN != json_array_size(fr) * AUDIT_HASH_LEN ||
	                  (f->n > 0 && memcmp(f->h, fh, f->n * AUDIT_HASH_LEN) != 0))) {
		snprintf(rep->error, sizeof(rep->error), "the tree before seq %llu differs from the "
		         "one the previous records make", (unsigned long long)f->size + 1);
		rep->bad_seq = (int64_t)f->size + 1;
		r = INK_ERR_CRYPTO;
		goto out;
	}
	if ((r = audit_verifier_new(spki, spki_len, cps, ncp,
	                            (uint64_t)json_integer_value(json_object_get(prefix, "size")), fh,
	                            json_array_size(fr) * AUDIT_HASH_LEN, rep, &ver)) != 0)
		goto out;
	rep->anchored = anchor != NULL && (anchor->spki != NULL || anchor->has_sha256);
	json_array_foreach(recs, i, e) {
		if (audit_rec_from_json(e, rec) != 0) {
			snprintf(rep->error, sizeof(rep->error), "record entry %zu is malformed", i);
			r = INK_ERR_INVALID;
			goto out;
		}
		if ((r = audit_verifier_add(ver, rec)) != 0)
			goto out;
	}
	if ((r = audit_verifier_finish(ver)) == 0 && f != NULL)
		audit_verifier_frontier(ver, f);
out:
	audit_verifier_free(ver);
	free(rec);
	free(fh);
	free(cps);
	free(spki);
	return r;
}

static int
read_leaves(struct store *st, uint64_t size, struct audit_frontier *prefix,
            uint8_t (**out)[AUDIT_HASH_LEN])
{
	struct store_audit_rec *v = NULL;
	uint8_t (*leaves)[AUDIT_HASH_LEN] = NULL;
	uint64_t got = 0;
	int64_t after = 0;
	size_t n = 0, i;
	int r = 0;

	*out = NULL;
	/* every record stays in the store: the proofs start from the empty tree */
	memset(prefix, 0, sizeof(*prefix));
	if (size == 0 || size > SIZE_MAX / AUDIT_HASH_LEN)
		return INK_ERR_INVALID;
	if ((leaves = malloc((size_t)size * AUDIT_HASH_LEN)) == NULL)
		return INK_ERR_ALLOC;
	while (got < size) {
		size_t want = size - got < PAGE ? (size_t)(size - got) : PAGE;

		if ((r = st->ops->audit_list(st, after, want, &v, &n)) != 0)
			goto out;
		for (i = 0; i < n; i++) {
			/* a missing seq makes the tree differ from every checkpoint: refuse */
			if ((uint64_t)v[i].seq != got + 1) {
				r = INK_ERR_NOT_FOUND;
				goto out;
			}
			if ((r = audit_leaf_hash(&v[i], leaves[got])) != 0)
				goto out;
			got++;
			after = v[i].seq;
		}
		free(v);
		v = NULL;
		if (n < want)
			break;
	}
	if (got != size) {
		r = INK_ERR_NOT_FOUND;
		goto out;
	}
	*out = leaves;
	leaves = NULL;
out:
	free(v);
	free(leaves);
	return r;
}

json_t *
audit_head_json(const struct audit_head *h)
{
	char text[AUDIT_HEAD_TEXT_MAX];

	audit_head_text(h, text);
	return json_pack("{s:I, s:o, s:I, s:o, s:s}", "size", (json_int_t)h->size,
	                 "root", hex_json(h->root, AUDIT_HASH_LEN), "time", (json_int_t)h->time,
	                 "signature", hex_json(h->sig, h->sig_len), "signed_text", text);
}

int
audit_head_from_json(const json_t *o, struct audit_head *h)
{
	const json_t *sz = json_object_get(o, "size"), *t = json_object_get(o, "time");
	size_t len = 0;

	memset(h, 0, sizeof(*h));
	if (!json_is_integer(sz) || json_integer_value(sz) < 0 || !json_is_integer(t) ||
	    unhex(json_object_get(o, "root"), h->root, AUDIT_HASH_LEN, &len) != 0 ||
	    len != AUDIT_HASH_LEN ||
	    unhex(json_object_get(o, "signature"), h->sig, AUDIT_SIG_MAX, &h->sig_len) != 0)
		return INK_ERR_INVALID;
	h->size = (uint64_t)json_integer_value(sz);
	h->time = json_integer_value(t);
	return 0;
}

json_t *
audit_path_json(const uint8_t (*path)[AUDIT_HASH_LEN], size_t n)
{
	json_t *a = json_array();
	size_t i;

	for (i = 0; a != NULL && i < n; i++)
		json_array_append_new(a, hex_json(path[i], AUDIT_HASH_LEN));
	return a;
}

int
audit_path_from_json(const json_t *a, uint8_t (*path)[AUDIT_HASH_LEN], size_t *n)
{
	const json_t *e;
	size_t i, len;

	*n = 0;
	if (!json_is_array(a) || json_array_size(a) > AUDIT_PROOF_MAX)
		return INK_ERR_INVALID;
	json_array_foreach(a, i, e) {
		if (unhex(e, path[i], AUDIT_HASH_LEN, &len) != 0 || len != AUDIT_HASH_LEN)
			return INK_ERR_INVALID;
	}
	*n = json_array_size(a);
	return 0;
}

static int
archive(struct store *st, const char *dir, int64_t cutoff, const uint8_t *spki, size_t spki_len,
        int64_t *first, int64_t *last, char file[static 256], char sha256[static 65])
{
	struct store_checkpoint *cps = NULL;
	struct store_audit_rec *v = NULL;
	struct store_archive a;
	struct audit_frontier f;
	uint8_t dig[32];
	char arch[STORE_TEXT_MAX + 160], path[1024], *text = NULL;
	json_t *b = NULL;
	int64_t upto = 0, after;
	size_t ncp = 0, n = 0, i;
	int r;

	*first = *last = 0;
	file[0] = sha256[0] = '\0';
	if ((r = prefix_from_archive(st, &f, arch)) != 0 ||
	    (r = st->ops->checkpoint_list(st, (int64_t)f.size + 1, INT64_MAX, &cps, &ncp)) != 0)
		goto out;
	/* the newest checkpoint whose last record is past the retention period */
	for (i = ncp; i-- > 0 && upto == 0;) {
		if ((r = st->ops->audit_list(st, cps[i].size - 1, 1, &v, &n)) != 0)
			goto out;
		if (n == 1 && v[0].seq == cps[i].size && v[0].time < cutoff)
			upto = cps[i].size;
		free(v);
		v = NULL;
	}
	if (upto == 0)
		goto out;
	if ((r = bundle_build(st, (int64_t)f.size + 1, upto, spki, spki_len, NULL, &b)) != 0)
		goto out;
	json_object_set_new(b, "archive", json_pack("{s:I, s:I}", "made_at", (json_int_t)ink_now(),
	                                             "retention_cutoff", (json_int_t)cutoff));
	/* the tree at upto, for the records that stay; a gap needs `inkan audit verify` first */
	if ((r = frontier_advance(st, &f, upto, &after)) != 0)
		goto out;
	if (after != upto || f.size != (uint64_t)upto) {
		r = INK_ERR_STORE;
		goto out;
	}
	if ((text = json_dumps(b, JSON_COMPACT)) == NULL) {
		r = INK_ERR_ALLOC;
		goto out;
	}
	memset(&a, 0, sizeof(a));
	a.first_seq = json_integer_value(json_object_get(b, "from"));
	a.last_seq = upto;
	a.frontier_len = f.n * AUDIT_HASH_LEN;
	memcpy(a.frontier, f.h, a.frontier_len);
	a.made_at = ink_now();
	snprintf(a.file, sizeof(a.file), "audit-%lld-%lld.json", (long long)a.first_seq, (long long)upto);
	SHA256((const uint8_t *)text, strlen(text), dig);
	hex_encode(dig, sizeof(dig), a.sha256);
	/* durable file first, then its row; the records themselves stay (audit rows are never
	 * deleted): the archive is a signed copy for write-once storage */
	if ((r = ink_mkdir(dir, 0700)) != 0 || (r = ink_path(path, sizeof(path), dir, a.file)) != 0 ||
	    (r = ink_write_file(path, text, strlen(text), 0600)) != 0 ||
	    (r = st->ops->archive_insert(st, &a)) != 0)
		goto out;
	*first = a.first_seq;
	*last = upto;
	memcpy(file, a.file, strnlen(a.file, 255));
	file[strnlen(a.file, 255)] = '\0';
	memcpy(sha256, a.sha256, 65);
out:
	if (text != NULL) {
		json_free_t jf = NULL;
		json_malloc_t jm = NULL;

		/* json_dumps' text belongs to jansson's allocator (possibly inkand's wiping one) */
		json_get_alloc_funcs(&jm, &jf);
		jf(text);
	}
	json_decref(b);
	free(v);
	free(cps);
	return r;
}

/* An archive deletes rows: exports and proofs never see it half done. */
static pthread_mutex_t arch_mu = PTHREAD_MUTEX_INITIALIZER;

int
audit_bundle_build(struct store *st, int64_t from, int64_t to, const uint8_t *spki,
                   size_t spki_len, const struct audit_head *latest, json_t **out)
{
	int r;

	pthread_mutex_lock(&arch_mu);
	r = bundle_build(st, from, to, spki, spki_len, latest, out);
	pthread_mutex_unlock(&arch_mu);
	return r;
}

int
audit_read_leaves(struct store *st, uint64_t size, struct audit_frontier *prefix,
                  uint8_t (**out)[AUDIT_HASH_LEN])
{
	int r;

	pthread_mutex_lock(&arch_mu);
	r = read_leaves(st, size, prefix, out);
	pthread_mutex_unlock(&arch_mu);
	return r;
}

int
audit_archive(struct store *st, const char *dir, int64_t cutoff, const uint8_t *spki,
              size_t spki_len, int64_t *first, int64_t *last, char file[static 256],
              char sha256[static 65])
{
	int r;

	pthread_mutex_lock(&arch_mu);
	r = archive(st, dir, cutoff, spki, spki_len, first, last, file, sha256);
	pthread_mutex_unlock(&arch_mu);
	return r;
}

int
audit_attest_parse(const char *text, json_t **out)
{
	const size_t plen = strlen(AUDIT_ATTEST_PREFIX);
	const char *p, *eq, *nl;
	json_t *o = NULL;
	char name[64];
	char *value = NULL;
	int r = INK_ERR_INVALID;

	*out = NULL;
	if (text == NULL || strlen(text) > AUDIT_ATTEST_MAX ||
	    strncmp(text, AUDIT_ATTEST_PREFIX, plen) != 0 || (o = json_object()) == NULL)
		goto out;
	for (p = text + plen; *p != '\0'; p = nl + 1) {
		if ((nl = strchr(p, '\n')) == NULL || (eq = memchr(p, '=', (size_t)(nl - p))) == NULL ||
		    eq == p || (size_t)(eq - p) >= sizeof(name))
			goto out;
		memcpy(name, p, (size_t)(eq - p));
		name[eq - p] = '\0';
		if (json_object_get(o, name) != NULL ||
		    (value = strndup(eq + 1, (size_t)(nl - eq - 1))) == NULL ||
		    json_object_set_new(o, name, json_string(value)) != 0)
			goto out;
		free(value);
		value = NULL;
	}
	*out = o;
	o = NULL;
	r = 0;
out:
	free(value);
	json_decref(o);
	return r;
}

int
audit_attest_sig_from_json(const json_t *sam, uint8_t sig[static AUDIT_SIG_MAX], size_t *len)
{
	return unhex(json_object_get(sam, "signature"), sig, AUDIT_SIG_MAX, len);
}
