/* test_policy: the CRYPTREC algorithm tables and key checks (RSA sizes, the 2030 cut-off, curves),
 * the signing PIN rules, and the assurance levels' table and configuration check. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "policy/policy.h"

#define JAN_2026 INT64_C(1767225600)

static void
test_sig_algs_allowed(void **state)
{
	static const struct {
		const char *oid, *name, *hash;
		enum policy_key_type type;
	} want[] = {
		{ "1.2.840.113549.1.1.11", "sha256WithRSAEncryption", "2.16.840.1.101.3.4.2.1", POLICY_KEY_RSA },
		{ "1.2.840.113549.1.1.12", "sha384WithRSAEncryption", "2.16.840.1.101.3.4.2.2", POLICY_KEY_RSA },
		{ "1.2.840.113549.1.1.13", "sha512WithRSAEncryption", "2.16.840.1.101.3.4.2.3", POLICY_KEY_RSA },
		{ "1.2.840.113549.1.1.10", "RSASSA-PSS", NULL, POLICY_KEY_RSA },
		{ "1.2.840.10045.4.3.2", "ecdsa-with-SHA256", "2.16.840.1.101.3.4.2.1", POLICY_KEY_EC },
		{ "1.2.840.10045.4.3.3", "ecdsa-with-SHA384", "2.16.840.1.101.3.4.2.2", POLICY_KEY_EC },
		{ "1.2.840.10045.4.3.4", "ecdsa-with-SHA512", "2.16.840.1.101.3.4.2.3", POLICY_KEY_EC },
		{ "1.3.101.112", "Ed25519", NULL, POLICY_KEY_ED25519 },
	};
	const struct policy_sig_alg *a, *all;
	size_t i, j, n = 0;

	(void)state;
	for (i = 0; i < INK_ARRAY_LEN(want); i++) {
		a = policy_sig_alg_by_oid(want[i].oid);
		assert_non_null(a);
		assert_string_equal(a->oid, want[i].oid);
		assert_string_equal(a->name, want[i].name);
		assert_int_equal(a->key_type, want[i].type);
		if (want[i].hash == NULL) {
			assert_null(a->hash_oid);
		} else {
			assert_string_equal(a->hash_oid, want[i].hash);
			assert_non_null(policy_hash_by_oid(a->hash_oid));
		}
	}
	/* The list holds each of them once, and nothing it cannot look up. */
	all = policy_sig_algs(&n);
	assert_true(n >= INK_ARRAY_LEN(want));
	for (i = 0; i < n; i++) {
		assert_ptr_equal(policy_sig_alg_by_oid(all[i].oid), &all[i]);
		for (j = i + 1; j < n; j++)
			assert_string_not_equal(all[i].oid, all[j].oid);
	}
}

static void
test_sig_algs_refused(void **state)
{
	static const char *const refused[] = {
		"1.2.840.113549.1.1.5",   /* sha1WithRSAEncryption */
		"1.2.840.113549.1.1.4",   /* md5WithRSAEncryption */
		"1.2.840.113549.1.1.14",  /* sha224WithRSAEncryption */
		"1.2.840.113549.1.1.1",   /* rsaEncryption: a key OID, not an algorithm */
		"1.2.840.10045.4.1",      /* ecdsa-with-SHA1 */
		"1.2.840.10045.4.3.1",    /* ecdsa-with-SHA224 */
		"1.2.840.10040.4.3",      /* dsa-with-sha1 */
		"1.2.840.10045.2.1",      /* id-ecPublicKey */
		"1.2.840.113549.1.1.110", "1.2.840.113549.1.1.1 ", " 1.3.101.112", "1.3.101.112.0",
		"", "garbage",
	};
	size_t i;

	(void)state;
	for (i = 0; i < INK_ARRAY_LEN(refused); i++) {
		if (policy_sig_alg_by_oid(refused[i]) != NULL)
			fail_msg("%s was allowed", refused[i]);
	}
	assert_null(policy_sig_alg_by_oid(NULL));
}

static void
test_hash_algs(void **state)
{
	static const struct {
		const char *oid, *name;
		size_t len;
	} want[] = {
		{ "2.16.840.1.101.3.4.2.1", "SHA-256", 32 },
		{ "2.16.840.1.101.3.4.2.2", "SHA-384", 48 },
		{ "2.16.840.1.101.3.4.2.3", "SHA-512", 64 },
		{ "2.16.840.1.101.3.4.2.8", "SHA3-256", 32 },
		{ "2.16.840.1.101.3.4.2.9", "SHA3-384", 48 },
		{ "2.16.840.1.101.3.4.2.10", "SHA3-512", 64 },
	};
	static const char *const refused[] = {
		"1.3.14.3.2.26",           /* SHA-1 */
		"1.2.840.113549.2.5",      /* MD5 */
		"2.16.840.1.101.3.4.2.4",  /* SHA-224 */
		"2.16.840.1.101.3.4.2.7",  /* SHA3-224 */
		"2.16.840.1.101.3.4.2.11", /* SHAKE128 */
		"2.16.840.1.101.3.4.2.1.0", "2.16.840.1.101.3.4.2", "",
	};
	const struct policy_hash_alg *h;
	size_t i;

	(void)state;
	for (i = 0; i < INK_ARRAY_LEN(want); i++) {
		h = policy_hash_by_oid(want[i].oid);
		assert_non_null(h);
		assert_string_equal(h->name, want[i].name);
		assert_int_equal(h->len, want[i].len);
	}
	for (i = 0; i < INK_ARRAY_LEN(refused); i++) {
		if (policy_hash_by_oid(refused[i]) != NULL)
			fail_msg("%s was allowed", refused[i]);
	}
	assert_null(policy_hash_by_oid(NULL));
}

static void
test_rsa_keys(void **state)
{
	const char *warning = "x";
	char why[256];

	(void)state;
	assert_int_equal(policy_check_key(POLICY_KEY_RSA, 3072, NULL, JAN_2026, &warning, why,
	                                  sizeof(why)), 0);
	assert_null(warning);
	assert_int_equal(policy_check_key(POLICY_KEY_RSA, 4096, NULL, JAN_2026, &warning, why,
	                                  sizeof(why)), 0);
	assert_null(warning);
	/* RSA-2048: allowed with a warning through 2030-12-31, refused from 2031. */
	assert_int_equal(policy_check_key(POLICY_KEY_RSA, 2048, NULL, JAN_2026, &warning, why,
	                                  sizeof(why)), 0);
	assert_non_null(warning);
	assert_non_null(strstr(warning, "2030"));
	assert_int_equal(policy_check_key(POLICY_KEY_RSA, 2048, NULL, POLICY_RSA2048_LAST_UTC,
	                                  &warning, why, sizeof(why)), 0);
	assert_non_null(warning);
	assert_int_equal(policy_check_key(POLICY_KEY_RSA, 2048, NULL, POLICY_RSA2048_LAST_UTC + 1,
	                                  &warning, why, sizeof(why)), INK_ERR_POLICY);
	assert_null(warning);
	assert_non_null(strstr(why, "3072"));
	/* Too small, odd or oversized. */
	assert_int_equal(policy_check_key(POLICY_KEY_RSA, 1024, NULL, JAN_2026, &warning, why,
	                                  sizeof(why)), INK_ERR_POLICY);
	assert_non_null(strstr(why, "3072"));
	assert_null(warning);
	assert_int_equal(policy_check_key(POLICY_KEY_RSA, 2047, NULL, JAN_2026, &warning, why,
	                                  sizeof(why)), INK_ERR_POLICY);
	assert_int_equal(policy_check_key(POLICY_KEY_RSA, 3000, NULL, JAN_2026, &warning, why,
	                                  sizeof(why)), INK_ERR_POLICY);
	assert_int_equal(policy_check_key(POLICY_KEY_RSA, 0, NULL, JAN_2026, &warning, why,
	                                  sizeof(why)), INK_ERR_POLICY);
	assert_int_equal(policy_check_key(POLICY_KEY_RSA, -3072, NULL, JAN_2026, &warning, why,
	                                  sizeof(why)), INK_ERR_POLICY);
	assert_int_equal(policy_check_key(POLICY_KEY_RSA, 8192, NULL, JAN_2026, NULL, NULL, 0),
	                 INK_ERR_POLICY);
}

static void
test_curves(void **state)
{
	static const char *const ok[] = {
		"prime256v1", "P-256", "secp384r1", "P-384", "secp521r1", "P-521",
	};
	static const char *const bad[] = {
		"secp256k1", "prime192v1", "secp224r1", "brainpoolP256r1", "p-256", "P-256 ", "", "X25519",
	};
	const char *warning = "x";
	char why[256];
	size_t i;

	(void)state;
	for (i = 0; i < INK_ARRAY_LEN(ok); i++) {
		assert_int_equal(policy_check_key(POLICY_KEY_EC, 0, ok[i], JAN_2026, &warning, why,
		                                  sizeof(why)), 0);
		assert_null(warning);
	}
	for (i = 0; i < INK_ARRAY_LEN(bad); i++) {
		if (policy_check_key(POLICY_KEY_EC, 256, bad[i], JAN_2026, &warning, why,
		                     sizeof(why)) != INK_ERR_POLICY)
			fail_msg("curve %s was allowed", bad[i]);
		assert_non_null(strstr(why, "P-256"));
	}
	assert_int_equal(policy_check_key(POLICY_KEY_EC, 256, NULL, JAN_2026, &warning, why,
	                                  sizeof(why)), INK_ERR_POLICY);
	/* EdDSA, at any date. */
	assert_int_equal(policy_check_key(POLICY_KEY_ED25519, 0, NULL, POLICY_RSA2048_LAST_UTC + 1,
	                                  &warning, why, sizeof(why)), 0);
	assert_int_equal(policy_check_key(POLICY_KEY_ED448, 0, NULL, JAN_2026, &warning, why,
	                                  sizeof(why)), 0);
	/* Unknown key type. */
	assert_int_equal(policy_check_key((enum policy_key_type)0, 256, "P-256", JAN_2026, &warning,
	                                  why, sizeof(why)), INK_ERR_POLICY);
	assert_int_equal(policy_check_key((enum policy_key_type)7, 256, "P-256", JAN_2026, &warning,
	                                  why, sizeof(why)), INK_ERR_POLICY);
	assert_non_null(strstr(why, "Ed25519"));
	/* The default curve passes. */
	assert_int_equal(policy_check_key(POLICY_KEY_EC, 0, POLICY_DEFAULT_CURVE, JAN_2026, NULL,
	                                  NULL, 0), 0);
}

/* pin_why PIN MIN: the refusal text of policy_check_pin, or NULL when the PIN passes. */
static const char *
pin_why(const char *pin, size_t min_len)
{
	static char why[160];

	memset(why, 'x', sizeof(why));
	if (policy_check_pin(pin, min_len, why, sizeof(why)) == 0) {
		assert_string_equal(why, "");
		return NULL;
	}
	assert_true(strlen(why) > 0);
	return why;
}

static void
test_pins(void **state)
{
	static const char *const repeated[] = {
		"000000", "1111", "99999999", "aaaaaa", "......", "121212", "123123", "696969",
		"131313", "777777", "12341234", "abcabca", "pinpinpin", "12121",
	};
	static const char *const runs[] = {
		"123456", "654321", "012345", "9876", "98765432", "890123", "901234", "210987",
		"1234567890", "0987654321", "abcdef", "FEDCBA", "aBcDeF", "lmnop",
	};
	static const char *const common[] = {
		"112233", "159753", "2580", "1004", "147258", "789456", "qwerty", "QWERTY", "Password",
	};
	static const char *const good[] = {
		"739146", "481526", "246810", "135790", "555666", "1472", "pin-Kestrel-4829",
		"correct horse battery staple", "90210x", "1230", "abcdeg", "zyxwvx",
	};
	const char *why;
	char long_pin[80];
	size_t i;

	(void)state;
	for (i = 0; i < INK_ARRAY_LEN(repeated); i++) {
		if ((why = pin_why(repeated[i], 4)) == NULL || strstr(why, "repeated") == NULL)
			fail_msg("%s: not refused as a repetition (%s)", repeated[i], why ? why : "allowed");
	}
	for (i = 0; i < INK_ARRAY_LEN(runs); i++) {
		if ((why = pin_why(runs[i], 4)) == NULL || strstr(why, "run") == NULL)
			fail_msg("%s: not refused as a run (%s)", runs[i], why ? why : "allowed");
	}
	for (i = 0; i < INK_ARRAY_LEN(common); i++) {
		if ((why = pin_why(common[i], 4)) == NULL || strstr(why, "common") == NULL)
			fail_msg("%s: not refused as common (%s)", common[i], why ? why : "allowed");
	}
	for (i = 0; i < INK_ARRAY_LEN(good); i++) {
		if ((why = pin_why(good[i], 4)) != NULL)
			fail_msg("%s: refused (%s)", good[i], why);
	}
	/* Length: the configured minimum (4 at the least), 64 at the most. */
	assert_null(pin_why("739146", 6));
	assert_non_null(strstr(pin_why("73914", 6), "at least 6"));
	assert_non_null(strstr(pin_why("739146", 8), "at least 8"));
	assert_null(pin_why("73914682", 8));
	assert_non_null(strstr(pin_why("739", 0), "at least 4"));
	assert_null(pin_why("7391", 0));
	memset(long_pin, 0, sizeof(long_pin));
	for (i = 0; i < 64; i++)
		long_pin[i] = (char)('a' + (i * 7 + i / 5) % 26);
	assert_null(pin_why(long_pin, 6));
	assert_null(pin_why(long_pin, 100));      /* a minimum above 64 means 64 */
	long_pin[64] = 'q';
	assert_non_null(strstr(pin_why(long_pin, 6), "at most 64"));
	/* Printable ASCII only; no PIN at all. */
	assert_non_null(strstr(pin_why("7391\t46", 6), "printable"));
	assert_non_null(strstr(pin_why("7391\xc3\xa9" "46", 6), "printable"));
	assert_non_null(pin_why(NULL, 6));
	assert_non_null(pin_why("", 6));
	/* The reason names the rule, not the PIN: the same text for any PIN it refuses. */
	{
		char a[160], b[160];

		assert_int_equal(policy_check_pin("000000", 6, a, sizeof(a)), INK_ERR_POLICY);
		assert_int_equal(policy_check_pin("999999999", 6, b, sizeof(b)), INK_ERR_POLICY);
		assert_string_equal(a, b);
		assert_int_equal(policy_check_pin("234567", 6, a, sizeof(a)), INK_ERR_POLICY);
		assert_int_equal(policy_check_pin("fedcba", 6, b, sizeof(b)), INK_ERR_POLICY);
		assert_string_equal(a, b);
	}
	assert_int_equal(policy_check_pin("000000", 6, NULL, 0), INK_ERR_POLICY);
	assert_int_equal(policy_check_pin("739146", POLICY_PIN_MIN_DEFAULT, NULL, 0), 0);
}

/* The levels only add: each one's PIN floor, ceilings and RSA-2048 are no weaker than the one
 * below; outside 1..4 there is none. */
static void
test_levels_only_add(void **state)
{
	const struct policy_level *lo, *hi;
	int i;

	(void)state;
	assert_null(policy_level_of(0));
	assert_null(policy_level_of(5));
	for (i = 1; i < 4; i++) {
		lo = policy_level_of(i);
		hi = policy_level_of(i + 1);
		assert_non_null(lo);
		assert_non_null(hi);
		assert_true(hi->pin_min_len >= lo->pin_min_len);
		assert_true(hi->sad_ttl_max <= lo->sad_ttl_max);
		assert_true(hi->multisign_max <= lo->multisign_max);
		assert_true(!hi->rsa2048 || lo->rsa2048);
		assert_true(hi->pkcs11_required || !lo->pkcs11_required);
		assert_true(hi->tsa_synced_clock || !lo->tsa_synced_clock);
		assert_true(lo->pin_min_len >= POLICY_PIN_MIN_DEFAULT);
	}
	assert_true(policy_level_of(4)->pkcs11_required);
	assert_false(policy_level_of(4)->rsa2048);
}

/* A configuration that contradicts its level is refused, naming the setting; the level's
 * values apply where the settings leave them. */
static void
test_levels_config(void **state)
{
	struct ink_config cfg;
	char why[256];

	(void)state;
	config_defaults(&cfg, "/nonexistent");
	assert_int_equal(cfg.assurance_level, 3);
	assert_int_equal(policy_check_config(&cfg, why, sizeof(why)), 0);
	assert_int_equal(policy_pin_min(&cfg), 6);
	assert_false(policy_tsa_needs_synced_clock(&cfg));
	cfg.pin_min_len = 10;
	assert_int_equal(policy_pin_min(&cfg), 10);
	cfg.pin_min_len = 5;
	assert_int_equal(policy_check_config(&cfg, why, sizeof(why)), INK_ERR_CONFIG);
	assert_non_null(strstr(why, "pin_min_len"));
	cfg.pin_min_len = 0;
	cfg.sad_ttl = 301;
	assert_int_equal(policy_check_config(&cfg, why, sizeof(why)), INK_ERR_CONFIG);
	assert_non_null(strstr(why, "sad_ttl"));
	cfg.sad_ttl = 300;
	cfg.assurance_level = 4;
	assert_int_equal(policy_check_config(&cfg, why, sizeof(why)), INK_ERR_CONFIG);
	assert_non_null(strstr(why, "PKCS#11"));
	snprintf(cfg.key_backend, sizeof(cfg.key_backend), "pkcs11");
	assert_int_equal(policy_check_config(&cfg, why, sizeof(why)), 0);
	assert_int_equal(policy_pin_min(&cfg), 8);
	assert_true(policy_tsa_needs_synced_clock(&cfg));
	cfg.multisign = 101;
	assert_int_equal(policy_check_config(&cfg, why, sizeof(why)), INK_ERR_CONFIG);
	assert_non_null(strstr(why, "multisign"));
	cfg.assurance_level = 7;
	assert_int_equal(policy_check_config(&cfg, why, sizeof(why)), INK_ERR_CONFIG);
}

/* RSASSA-PSS: the digest length and the maximum for the key (emLen - hLen - 2), nothing else;
 * signAlgoParams with a salt no key could allow are refused before the SAM is asked. */
static void
test_pss_salts(void **state)
{
	/* RSASSA-PSS-params, SHA-256 and MGF1-SHA-256, salt as the last two or three bytes */
	static const char head[] = "a00f300d06096086480165030402010500a11c301a06092a864886f70d01"
	                           "0108300d06096086480165030402010500";
	static const struct { const char *salt; long want; } cases[] = {
		{ "a203020120", 32 }, { "a20402020156", 342 }, { "a2040202015e", 350 },
		{ "a204020201de", 478 }, { "a203020114", -1 }, { "a204020201df", -1 },
		{ "a203020100", -1 },
	};
	const struct policy_sig_alg *alg;
	const char *hash;
	uint8_t der[64];
	char hex[200], why[200];
	long salt;
	size_t i, n;
	int r;

	(void)state;
	assert_int_equal(policy_pss_salt_max(3072, 32), 350);
	assert_int_equal(policy_pss_salt_max(2048, 64), 190);
	assert_int_equal(policy_pss_salt_max(4096, 48), 462);
	assert_true(policy_pss_salt_ok(3072, 32, 32));
	assert_true(policy_pss_salt_ok(3072, 32, 350));
	assert_false(policy_pss_salt_ok(3072, 32, 0));
	assert_false(policy_pss_salt_ok(3072, 32, 20));
	assert_false(policy_pss_salt_ok(3072, 32, 351));
	assert_false(policy_pss_salt_ok(3072, 32, 478));   /* RSA-4096's maximum */
	for (i = 0; i < INK_ARRAY_LEN(cases); i++) {
		snprintf(hex, sizeof(hex), "30%02x%s%s", 0x2f + (unsigned)strlen(cases[i].salt) / 2, head,
		         cases[i].salt);
		for (n = 0; hex[2 * n] != '\0'; n++)
			sscanf(hex + 2 * n, "%2hhx", &der[n]);
		r = policy_resolve_sign("1.2.840.113549.1.1.10", NULL, der, n, &alg, &hash, &salt, why,
		                        sizeof(why));
		if (cases[i].want < 0) {
			assert_int_equal(r, INK_ERR_POLICY);
			assert_int_equal(salt, -1);
			assert_non_null(strstr(why, "salt"));
		} else {
			assert_int_equal(r, 0);
			assert_int_equal(salt, cases[i].want);
			assert_string_equal(hash, "2.16.840.1.101.3.4.2.1");
		}
	}
	/* no parameters: the digest length; not PSS: -1 */
	assert_int_equal(policy_resolve_sign("1.2.840.113549.1.1.10", "2.16.840.1.101.3.4.2.3", NULL, 0,
	                                     &alg, &hash, &salt, why, sizeof(why)), 0);
	assert_int_equal(salt, 64);
	assert_int_equal(policy_resolve_sign("1.2.840.113549.1.1.11", NULL, NULL, 0, &alg, &hash, &salt,
	                                     why, sizeof(why)), 0);
	assert_int_equal(salt, -1);
}

/* JWS algorithms for client assertions: the four named, each with its key; nothing else. */
static void
test_jws_algs(void **state)
{
	static const char *const refused[] = { "none", "HS256", "HS384", "RS384", "ES512", "EdDSA",
	                                       "es256", "ES256 ", "" };
	const struct policy_jws_alg *a;
	size_t i;

	(void)state;
	assert_non_null(a = policy_jws_alg_by_name("ES256"));
	assert_int_equal(a->key_type, POLICY_KEY_EC);
	assert_string_equal(a->curve, "prime256v1");
	assert_non_null(a = policy_jws_alg_by_name("ES384"));
	assert_string_equal(a->curve, "secp384r1");
	assert_string_equal(a->digest, "SHA384");
	assert_non_null(a = policy_jws_alg_by_name("PS256"));
	assert_int_equal(a->key_type, POLICY_KEY_RSA);
	assert_true(a->pss);
	assert_non_null(a = policy_jws_alg_by_name("RS256"));
	assert_false(a->pss);
	for (i = 0; i < sizeof(refused) / sizeof(refused[0]); i++)
		assert_null(policy_jws_alg_by_name(refused[i]));
	assert_null(policy_jws_alg_by_name(NULL));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sig_algs_allowed),
		cmocka_unit_test(test_sig_algs_refused),
		cmocka_unit_test(test_hash_algs),
		cmocka_unit_test(test_jws_algs),
		cmocka_unit_test(test_rsa_keys),
		cmocka_unit_test(test_curves),
		cmocka_unit_test(test_pins),
		cmocka_unit_test(test_levels_only_add),
		cmocka_unit_test(test_levels_config),
		cmocka_unit_test(test_pss_salts),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
