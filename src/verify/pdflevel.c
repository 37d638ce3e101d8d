/* pdflevel: the level a PAdES signature reaches (ETSI EN 319 142-1 clause 6: B-B, B-T, B-LT,
 * B-LTA), read off what validating it found — its time-stamps, where the revocation data of
 * its chains came from (chain_carried, as for CAdES) — and off the document time-stamps that
 * follow it, which CMS alone does not know of: the level signer_validate set is replaced. */
#include "verify/verify_int.h"

#include <string.h>

static bool
passed(const json_t *o)
{
	const char *ind = json_string_value(json_object_get(o, "indication"));

	return ind != NULL && strcmp(ind, "TOTAL-PASSED") == 0;
}

/* Whether the revision pdf[0..end) has a document security store. */
static bool
revision_has_dss(const uint8_t *pdf, size_t end)
{
	qpdf_data q = pdfq_open(pdf, end, false);
	bool yes;

	if (q == NULL)
		return false;
	yes = qpdf_oh_is_dictionary(q, pdfq_get(q, qpdf_get_root(q), "/DSS"));
	pdfq_close(&q);
	return yes;
}

void
pdflevel_set(const uint8_t *pdf, size_t len, struct pdf_done *d, size_t n)
{
	const json_t *ts, *t;
	const char *level;
	size_t i, j, k;
	bool bt, lt, lta, later_dts;

	for (i = 0; i < n; i++) {
		if (d[i].sig == NULL || d[i].docts || !d[i].passed || d[i].end == 0)
			continue;
		/* A valid document time-stamp after it, whose revision holds a DSS. */
		later_dts = lta = false;
		for (j = i + 1; j < n; j++) {
			if (!d[j].docts || !d[j].passed || d[j].end <= d[i].end || d[j].end > len)
				continue;
			later_dts = true;
			if (!lta)
				lta = revision_has_dss(pdf, d[j].end);
		}
		ts = json_object_get(d[i].sig, "timestamps");
		bt = later_dts;
		json_array_foreach(ts, k, t)
			bt = bt || passed(t);
		lt = bt && chain_carried(json_object_get(d[i].sig, "chain"));
		json_array_foreach(ts, k, t)
			lt = lt && (!passed(t) || chain_carried(json_object_get(t, "chain")));
		level = lt && lta ? "B-LTA" : lt ? "B-LT" : bt ? "B-T" : "B-B";
		json_object_set_new(d[i].sig, "level", json_string(level));
	}
}
