/* verdicts: the compliance report's verdicts that rest on inkan-sam's signed claims
 * (docs/compliance.md) — one set of rules, which inkand renders the report with and the
 * auditor's CLI recomputes from the signed values, so that a compromised inkand cannot turn
 * the SAM's "not met" into "met". */
#include "audit/audit.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *
audit_claim(const json_t *claims, const char *name)
{
	const char *v = json_string_value(json_object_get(claims, name));

	return v != NULL ? v : "";
}

long long
audit_claim_num(const json_t *claims, const char *name)
{
	const char *v = audit_claim(claims, name);

	return *v != '\0' ? strtoll(v, NULL, 10) : -1;
}

static bool INK_PRINTF(4, 5)
say(char *note, size_t notesz, bool met, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(note, notesz, fmt, ap);
	va_end(ap);
	return met;
}

#define N(name) audit_claim_num(cl, name)
#define S(name) audit_claim(cl, name)

static bool
v921(const json_t *cl, char *note, size_t sz)
{
	if (N("persons_registration_officer") > 0)
		return say(note, sz, true, "registration is done in inkan-sam with an identity record");
	return say(note, sz, false, "no registration officer: a security officer creates one "
	           "(inkan user add NAME --role registration_officer)");
}

static bool
v922(const json_t *cl, char *note, size_t sz)
{
	if (N("privileged_signers") == 0)
		return say(note, sz, true, "no privileged account is also a signer");
	return say(note, sz, false, "%lld privileged accounts are also signers: revoke the "
	           "privileged role or deregister the signer", N("privileged_signers"));
}

static bool
v923(const json_t *cl, char *note, size_t sz)
{
	if (N("all_privileged_roles_held") != 0 || N("security_officer_conflicts") != 0 ||
	    N("privileged_signers") != 0)
		return say(note, sz, false, "separation of duties is broken: revoke the roles the "
		           "counts name (inkan role revoke)");
	if (N("persons_security_officer") < 1)
		return say(note, sz, false, "no security officer");
	return say(note, sz, true, "separation of duties holds in inkan-sam's own record");
}

/* The SAM's part of 9.2.4: its attempt limits (inkand adds the password length). */
static bool
v924(const json_t *cl, char *note, size_t sz)
{
	if (N("max_login_failures") > 10 || N("max_login_failures") < 1 ||
	    N("pin_max_failures") > 10 || N("pin_max_failures") < 1)
		return say(note, sz, false, "set max_login_failures and pin_max_failures to 10 or less");
	return say(note, sz, true, "Argon2id hashes, TOTP, lockouts within 10 failures");
}

static bool
v941(const json_t *cl, char *note, size_t sz)
{
	if (N("sad_ttl") > N("level_sad_ttl_max") || N("multisign") > N("level_multisign_max") ||
	    N("sad_ttl") < 0 || N("multisign") < 0)
		return say(note, sz, false, "the SAD limits pass the level's ceilings: lower sad_ttl "
		           "and multisign");
	return say(note, sz, true, "SADs minted and checked by inkan-sam within the level's ceilings");
}

static bool
v1011(const json_t *cl, char *note, size_t sz)
{
	return say(note, sz, true, "the SAM refuses every algorithm outside the CRYPTREC list; "
	           "RSA-2048: %s", S("rsa2048"));
}

static bool
v1012(const json_t *cl, char *note, size_t sz)
{
	const char *backend = S("key_backend"), *kind = S("pkcs11_token_kind");
	const char *mk = S("master_key_file");
	bool hw = strcmp(kind, "hardware token") == 0;

	if (strncmp(mk, "0600", 4) != 0 && strncmp(mk, "0400", 4) != 0)
		return say(note, sz, false, "the master key file is %s: chmod 0600 DATA/sam/master.key",
		           mk);
	if (strcmp(S("pkcs11_required"), "yes") == 0 && !hw)
		return say(note, sz, false, "assurance level %s needs keys in a hardware token; the "
		           "keys are in %s: use an HSM's PKCS#11 module", S("assurance_level"),
		           strcmp(backend, "pkcs11") == 0 ? kind : "software (key_backend = soft)");
	if (strcmp(backend, "pkcs11") == 0 && !hw)
		return say(note, sz, true, "keys generated in a PKCS#11 %s, which is not an HSM", kind);
	return say(note, sz, true, "keys in %s", hw ? "a hardware token" :
	           "software, sealed under the master key and each signer's PIN");
}

/* The SAM's part of privilege separation: it does not run as root. */
static bool
vprivsep(const json_t *cl, char *note, size_t sz)
{
	if (N("uid") <= 0)
		return say(note, sz, false, "inkan-sam runs as uid %lld: start inkand as root with "
		           "user and sam_user set", N("uid"));
	return say(note, sz, true, "inkan-sam runs as uid %lld", N("uid"));
}

#undef N
#undef S

static const struct {
	const char *id;
	bool whole;
	bool (*fn)(const json_t *cl, char *note, size_t sz);
} rules[] = {
	{ "9.2.1", true, v921 }, { "9.2.2", true, v922 }, { "9.2.3", true, v923 },
	{ "9.2.4", false, v924 }, { "9.4.1", true, v941 }, { "10.1.1", true, v1011 },
	{ "10.1.2", true, v1012 }, { "privsep", false, vprivsep },
};

size_t
audit_sam_controls(const char **ids, size_t max)
{
	size_t i;

	for (i = 0; i < INK_ARRAY_LEN(rules) && i < max; i++)
		ids[i] = rules[i].id;
	return INK_ARRAY_LEN(rules);
}

int
audit_sam_verdict(const json_t *claims, const char *control, bool *met, bool *whole, char *note,
                  size_t notesz)
{
	size_t i;

	for (i = 0; i < INK_ARRAY_LEN(rules); i++) {
		if (strcmp(rules[i].id, control) == 0) {
			*whole = rules[i].whole;
			*met = rules[i].fn(claims, note, notesz);
			return 0;
		}
	}
	return INK_ERR_NOT_FOUND;
}
