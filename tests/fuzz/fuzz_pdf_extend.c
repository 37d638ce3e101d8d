/* fuzz_pdf_extend: what `inkan extend` does to a PDF of anyone's, offline — its signatures
 * listed (formats_pdf_signatures), each one's chains built from its CMS, and a DSS update
 * written over whatever DSS the input already holds (formats_pdf_add_dss). The input goes
 * through a file, as the CLI reads it. */
#include "fuzz.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/common.h"
#include "formats/formats.h"

/* Signatures given a DSS entry at most (each certificate set is its chains'). */
#define FUZZ_EXTEND_SIGS 8

static char in_path[64], out_path[80];

static void
paths(void)
{
	int fd;

	if (in_path[0] != '\0')
		return;
	fuzz_init();
	snprintf(in_path, sizeof(in_path), "/tmp/fuzz-pdf-extend.XXXXXX");
	if ((fd = mkstemp(in_path)) < 0)
		abort();
	close(fd);
	snprintf(out_path, sizeof(out_path), "%s.out", in_path);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct formats_pdf_sig *sigs = NULL;
	struct formats_ltv chains[FUZZ_EXTEND_SIGS];
	struct formats_blob certs[FUZZ_EXTEND_SIGS][FORMATS_LTV_CERTS_MAX];
	struct formats_dss_entry e[FUZZ_EXTEND_SIGS];
	size_t n = 0, i, k, ne = 0;

	paths();
	if (ink_write_file(in_path, data, size, 0600) != 0)
		abort();
	(void)unlink(out_path);
	memset(chains, 0, sizeof(chains));
	memset(e, 0, sizeof(e));
	if (formats_pdf_signatures(in_path, &sigs, &n) != 0)
		return 0;
	for (i = 0; i < n && ne < FUZZ_EXTEND_SIGS; i++) {
		if (sigs[i].der_len == 0 ||
		    formats_ltv_chains(sigs[i].contents, sigs[i].der_len, NULL, 0, &chains[ne]) != 0)
			continue;
		for (k = 0; k < chains[ne].n; k++) {
			certs[ne][k].data = chains[ne].v[k].der;
			certs[ne][k].len = chains[ne].v[k].len;
		}
		memcpy(e[ne].vri_key, sigs[i].vri_key, sizeof(e[ne].vri_key));
		e[ne].certs = certs[ne];
		e[ne].ncerts = chains[ne].n;
		ne++;
	}
	if (ne > 0 && formats_pdf_add_dss(in_path, out_path, e, ne) == 0) {
		/* What was written is read back: its signatures are the input's. */
		struct formats_pdf_sig *again = NULL;
		size_t m = 0;

		if (formats_pdf_signatures(out_path, &again, &m) != 0 || m != n)
			abort();
		formats_pdf_signatures_free(again, m);
	}
	(void)unlink(out_path);
	for (i = 0; i < ne; i++)
		formats_ltv_free(&chains[i]);
	formats_pdf_signatures_free(sigs, n);
	return 0;
}
