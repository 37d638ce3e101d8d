/* formats_int: what the formats files share — a small DER writer with a sticky error. */
#ifndef INKAN_FORMATS_INT_H
#define INKAN_FORMATS_INT_H

#include <qpdf/qpdf-c.h>

#include "formats/formats.h"

/* A growing DER encoding; the first failure sticks in err and later calls do nothing. */
struct der {
	uint8_t *p;
	size_t len, cap;
	int err;
};

/* Appends raw bytes. */
void der_raw(struct der *d, const void *p, size_t n);
/* Appends a tag and a DER length. */
void der_hdr(struct der *d, uint8_t tag, uint64_t len);
/* Bytes a tag and length of len take. */
size_t der_hdr_len(uint64_t len);
/* Appends tag, length, contents. */
void der_tlv(struct der *d, uint8_t tag, const void *p, size_t n);
/* Appends inner wrapped in tag, then frees inner (errors carry over). */
void der_wrap(struct der *d, uint8_t tag, struct der *inner);
/* Appends an OBJECT IDENTIFIER from dotted text. */
void der_oid(struct der *d, const char *dotted);
/* Appends an AlgorithmIdentifier with absent (null_params false) or NULL parameters. */
void der_algid(struct der *d, const char *dotted, bool null_params);
/* Frees (accepts a zeroed struct). */
void der_free(struct der *d);
/* Appends RSASSA-PSS-params (RFC 4055) for SHA-256, MGF1 with SHA-256, salt 32 (cms.c). */
void formats_pss_sha256_params(struct der *out);


/* ---- XML signatures (xml.c, xades.c, xadesltv.c) ---- */

/* A XAdES signature being made (formats_xades_prepare) or extended (formats_xades_open). */
struct formats_xades {
	struct _xmlDoc *doc;            /* what is written: the document or the signature */
	struct _xmlNode *sig, *sig_value, *qprops;
	struct evp_pkey_st *pub;        /* the signer's key, to check what comes back (making) */
	const struct formats_xml_sigalg *alg;
	uint8_t *si;                    /* SignedInfo's canonical form (making) */
	size_t si_len;
	uint8_t tbs[64];
	size_t tbs_len;
	struct der pss_params;          /* RSASSA-PSS-params for signHash (making, PSS only) */
	char id[24];                    /* the prefix of the Ids of what is added */
};

/* Whether n is the element ns:name. */
bool formats_xml_is_el(const struct _xmlNode *n, const char *ns, const char *name);
/* The first element named ns:name in n's subtree (n included), depth first; NULL when none. */
struct _xmlNode *formats_xml_find_el(struct _xmlNode *n, const char *ns, const char *name);
/* The first element of n's subtree whose Id attribute is id; NULL when none. */
struct _xmlNode *formats_xml_find_id(struct _xmlNode *n, const char *id);
/* x's xades:UnsignedSignatureProperties, made (with UnsignedProperties) when missing; NULL
 * when it cannot be. */
struct _xmlNode *formats_xades_usp(struct formats_xades *x);
/* Appends a time-stamp property ns:name (xades:SignatureTimeStamp, xadesv141:ArchiveTimeStamp)
 * with exclusive C14N and the token (DER) to UnsignedSignatureProperties. */
int formats_xades_add_stamp(struct formats_xades *x, const char *ns, const char *name,
                            const uint8_t *token, size_t len) INK_WUR;
/* A fresh prefix for Ids ("id-" and 16 hex digits) into id[24]. */
int formats_xml_new_id(char id[static 24]) INK_WUR;


/* ---- an incremental update of a PDF (pdfupdate.c) ---- */

struct pdf_obj {
	int id, gen;
	uint64_t off;
};

/* One update being written: the original read by qpdf, the new file, the objects written. */
struct pdfu {
	qpdf_data q;              /* the original, as qpdf reads it */
	int fd;                   /* the original */
	FILE *f;                  /* the new file */
	char *out_path;           /* removed by pdfu_free unless pdfu_close kept it */
	uint64_t prev;            /* the original's last cross-reference */
	bool xstream;             /* it is a stream: the update's is one too */
	int next_id;              /* the next free object number */
	struct pdf_obj *objs;
	size_t nobj, cap;
};

/* Reads in_path with qpdf (a file that needs repair, or encrypted, is INK_ERR_INVALID), creates
 * out_path (an existing file is INK_ERR_EXISTS, never overwritten), copies the original into
 * it and starts the update. pdfu_free in every case. */
int pdfu_begin(struct pdfu *u, const char *in_path, const char *out_path) INK_WUR;
/* A new object number; -1 when the file has too many. */
int pdfu_new_id(struct pdfu *u);
/* Records that object id starts here (for an object the caller writes to u->f itself). */
int pdfu_mark(struct pdfu *u, int id, int gen) INK_WUR;
/* Writes "id gen obj <text> endobj" and records it. */
int pdfu_obj(struct pdfu *u, int id, int gen, const char *text) INK_WUR;
/* Writes an unfiltered stream object of data. */
int pdfu_stream(struct pdfu *u, int id, const uint8_t *data, size_t len) INK_WUR;
/* The cross-reference section (or stream) of the objects written, the trailer, %%EOF; *size is
 * the new file's length. u->f stays open (a signature fills its /ByteRange in after). */
int pdfu_end(struct pdfu *u, uint64_t *size) INK_WUR;
/* Syncs and closes the new file, which is then kept. */
int pdfu_close(struct pdfu *u) INK_WUR;
/* Frees everything; a new file not kept by pdfu_close is removed. */
void pdfu_free(struct pdfu *u);
/* qpdf's text of an object (resolved: an indirect one's own text), malloc'd; NULL when out of memory. */
char *pdfu_unparse(qpdf_data q, qpdf_oh oh, bool resolved);
/* "<< ... >>" of dict without key, with " key [ items of the old array, extra ]" and more
 * added before the end; key NULL adds more alone. */
int pdfu_dict_with(qpdf_data q, qpdf_oh dict, const char *key, const char *extra,
                   const char *more, char **out) INK_WUR;

/* ---- a visible signature's appearance (pdfappear.c) ---- */

/* The next code point of UTF-8 text at *s (which advances); U+FFFD for a malformed sequence. */
uint32_t pdf_utf8_next(const unsigned char **s);

/* Writes the Helvetica font and the form XObject that shows v's text in a frame of v's size;
 * *xobj_id is the XObject for the widget's /AP /N. */
int pdf_appearance(struct pdfu *u, const struct formats_pdf_visible *v, int *xobj_id) INK_WUR;

#endif
