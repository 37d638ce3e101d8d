/* test_auth: roles and separation of duties, passwords, TOTP (RFC 6238 vectors), base32, tokens. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <openssl/evp.h>
#include <stdio.h>
#include <string.h>

#include "auth/auth.h"

static const uint8_t rfc_seed[] = "12345678901234567890";
#define RFC_SEED_LEN 20

/* ---- roles ---- */

static const uint32_t all_roles[] = {
	AUTH_ROLE_SECURITY_OFFICER, AUTH_ROLE_SYSTEM_ADMINISTRATOR, AUTH_ROLE_SYSTEM_OPERATOR,
	AUTH_ROLE_SYSTEM_AUDITOR, AUTH_ROLE_REGISTRATION_OFFICER, AUTH_ROLE_SIGNER,
};

static void
test_role_names(void **state)
{
	uint32_t role = 99;
	size_t i;
	char s[128];

	(void)state;
	for (i = 0; i < INK_ARRAY_LEN(all_roles); i++) {
		const char *n = auth_role_name(all_roles[i]);

		assert_non_null(n);
		assert_int_equal(auth_role_parse(n, &role), 0);
		assert_int_equal(role, all_roles[i]);
	}
	assert_string_equal(auth_role_name(AUTH_ROLE_SECURITY_OFFICER), "security_officer");
	assert_string_equal(auth_role_name(AUTH_ROLE_SIGNER), "signer");
	assert_null(auth_role_name(0));
	assert_null(auth_role_name(AUTH_ROLE_SIGNER | AUTH_ROLE_SYSTEM_AUDITOR));
	assert_null(auth_role_name(1u << 6));
	assert_int_equal(auth_role_parse("root", &role), INK_ERR_INVALID);
	assert_int_equal(role, 0);
	assert_int_equal(auth_role_parse("Signer", &role), INK_ERR_INVALID);
	assert_int_equal(auth_role_parse("", &role), INK_ERR_INVALID);

	auth_roles_str(0, s, sizeof(s));
	assert_string_equal(s, "");
	auth_roles_str(AUTH_ROLE_SECURITY_OFFICER | AUTH_ROLE_SYSTEM_ADMINISTRATOR, s, sizeof(s));
	assert_string_equal(s, "security_officer,system_administrator");
	auth_roles_str(AUTH_ROLE_SIGNER, s, sizeof(s));
	assert_string_equal(s, "signer");
	/* Too small: whole names only, always terminated. */
	auth_roles_str(AUTH_ROLE_SECURITY_OFFICER | AUTH_ROLE_SIGNER, s, 20);
	assert_string_equal(s, "security_officer");
	auth_roles_str(AUTH_ROLE_SECURITY_OFFICER, s, 5);
	assert_string_equal(s, "");
}

static void
test_sod(void **state)
{
	const char *why = NULL;
	size_t i;

	(void)state;
	/* At least one role. */
	assert_int_equal(auth_roles_check(0, &why), INK_ERR_SOD);
	assert_non_null(why);
	/* Not every privileged role, with or without others. */
	assert_int_equal(auth_roles_check(AUTH_ROLES_PRIVILEGED, &why), INK_ERR_SOD);
	assert_non_null(why);
	assert_int_equal(auth_roles_check(AUTH_ROLES_ALL, &why), INK_ERR_SOD);
	/* A privileged role never with signer: each one tried. */
	for (i = 0; i < INK_ARRAY_LEN(all_roles); i++) {
		if (all_roles[i] == AUTH_ROLE_SIGNER)
			continue;
		why = NULL;
		assert_int_equal(auth_roles_check(all_roles[i] | AUTH_ROLE_SIGNER, &why), INK_ERR_SOD);
		assert_non_null(strstr(why, "signer"));
		/* Each single role on its own is fine. */
		assert_int_equal(auth_roles_check(all_roles[i], &why), 0);
		assert_null(why);
	}
	/* Security officer never with system auditor. */
	assert_int_equal(auth_roles_check(AUTH_ROLE_SECURITY_OFFICER | AUTH_ROLE_SYSTEM_AUDITOR,
	                                  &why), INK_ERR_SOD);
	assert_non_null(strstr(why, "auditor"));
	assert_int_equal(auth_roles_check(AUTH_ROLE_SECURITY_OFFICER | AUTH_ROLE_SYSTEM_AUDITOR |
	                                  AUTH_ROLE_SYSTEM_OPERATOR, &why), INK_ERR_SOD);
	/* Allowed combinations. */
	assert_int_equal(auth_roles_check(AUTH_ROLE_SIGNER, &why), 0);
	assert_int_equal(auth_roles_check(AUTH_ROLE_SECURITY_OFFICER |
	                                  AUTH_ROLE_SYSTEM_ADMINISTRATOR, &why), 0);
	/* The system auditor holds no other role. */
	for (i = 0; i < INK_ARRAY_LEN(all_roles); i++) {
		if (all_roles[i] == AUTH_ROLE_SYSTEM_AUDITOR)
			continue;
		assert_int_equal(auth_roles_check(AUTH_ROLE_SYSTEM_AUDITOR | all_roles[i], &why),
		                 INK_ERR_SOD);
		/* With signer the privileged-signer rule answers first. */
		assert_non_null(strstr(why, all_roles[i] == AUTH_ROLE_SIGNER ? "signer" : "auditor"));
	}
	/* The security officer and the registration officer are exclusive. */
	assert_int_equal(auth_roles_check(AUTH_ROLE_SECURITY_OFFICER | AUTH_ROLE_REGISTRATION_OFFICER,
	                                  &why), INK_ERR_SOD);
	assert_non_null(strstr(why, "registration officer"));
	/* Everything else but the auditor and one of those two passes. */
	assert_int_equal(auth_roles_check(AUTH_ROLES_PRIVILEGED & ~(uint32_t)(AUTH_ROLE_SYSTEM_AUDITOR |
	                                  AUTH_ROLE_REGISTRATION_OFFICER), &why), 0);
	assert_int_equal(auth_roles_check(AUTH_ROLES_PRIVILEGED & ~(uint32_t)(AUTH_ROLE_SYSTEM_AUDITOR |
	                                  AUTH_ROLE_SECURITY_OFFICER), &why), 0);
	/* Unknown bits. */
	assert_int_equal(auth_roles_check(1u << 6, &why), INK_ERR_INVALID);
	assert_int_equal(auth_roles_check(AUTH_ROLE_SIGNER | (1u << 31), NULL), INK_ERR_INVALID);
}

static void
test_allowed_table(void **state)
{
	static const struct {
		enum auth_perm perm;
		uint32_t roles;
	} want[] = {
		{ AUTH_PERM_USER_READ, AUTH_ROLE_SECURITY_OFFICER | AUTH_ROLE_REGISTRATION_OFFICER },
		{ AUTH_PERM_SIGNER_MANAGE, AUTH_ROLE_REGISTRATION_OFFICER },
		{ AUTH_PERM_PRIVILEGED_MANAGE, AUTH_ROLE_SECURITY_OFFICER },
		{ AUTH_PERM_UNLOCK, AUTH_ROLE_REGISTRATION_OFFICER },
		{ AUTH_PERM_AUDIT_READ, AUTH_ROLE_SYSTEM_AUDITOR },
		{ AUTH_PERM_CONFIG_READ, AUTH_ROLE_SYSTEM_ADMINISTRATOR },
		{ AUTH_PERM_SIGN, AUTH_ROLE_SIGNER },
		{ AUTH_PERM_KEY_ADMIN, AUTH_ROLE_SECURITY_OFFICER },
		{ AUTH_PERM_BACKUP, AUTH_ROLE_SYSTEM_OPERATOR },
	};
	size_t i, j;

	(void)state;
	for (i = 0; i < INK_ARRAY_LEN(want); i++) {
		for (j = 0; j < INK_ARRAY_LEN(all_roles); j++) {
			bool expect = (want[i].roles & all_roles[j]) != 0;

			if (auth_allowed(all_roles[j], want[i].perm) != expect)
				fail_msg("perm %d role %s: expected %d", (int)want[i].perm,
				         auth_role_name(all_roles[j]), expect);
		}
		assert_false(auth_allowed(0, want[i].perm));
	}
	/* Only the signer signs; nobody privileged can, whatever they hold. */
	assert_false(auth_allowed(AUTH_ROLES_PRIVILEGED, AUTH_PERM_SIGN));
	assert_true(auth_allowed(AUTH_ROLE_SYSTEM_AUDITOR | AUTH_ROLE_SYSTEM_OPERATOR,
	                         AUTH_PERM_AUDIT_READ));
	/* The system operator (backup and restore) has nothing else. */
	for (i = 0; i < INK_ARRAY_LEN(want); i++)
		assert_true(auth_allowed(AUTH_ROLE_SYSTEM_OPERATOR, want[i].perm) ==
		            (want[i].perm == AUTH_PERM_BACKUP));
	/* A permission outside the table is refused. */
	assert_false(auth_allowed(AUTH_ROLES_ALL, (enum auth_perm)64));
}

static void
test_username(void **state)
{
	char longname[STORE_NAME_MAX + 2];

	(void)state;
	assert_true(auth_username_valid("alice"));
	assert_true(auth_username_valid("a"));
	assert_true(auth_username_valid("Bob.Smith_2@example-corp.jp"));
	assert_false(auth_username_valid(""));
	assert_false(auth_username_valid(NULL));
	assert_false(auth_username_valid("-alice"));
	assert_false(auth_username_valid(".alice"));
	assert_false(auth_username_valid("al ice"));
	assert_false(auth_username_valid("alice:x"));
	assert_false(auth_username_valid("alice/.."));
	assert_false(auth_username_valid("\xe5\x8d\xb0"));
	memset(longname, 'a', sizeof(longname));
	longname[STORE_NAME_MAX] = '\0';
	assert_true(auth_username_valid(longname));
	longname[STORE_NAME_MAX] = 'a';
	longname[STORE_NAME_MAX + 1] = '\0';
	assert_false(auth_username_valid(longname));
}

/* ---- passwords ---- */

static void
test_password_hash_verify(void **state)
{
	const struct auth_argon2 small = { .m_kib = 8192, .t = 1, .p = 1 };
	char h1[STORE_HASH_MAX + 1], h2[STORE_HASH_MAX + 1];

	(void)state;
	assert_int_equal(auth_password_hash(&small, "correct horse battery", h1), 0);
	assert_true(strncmp(h1, "$argon2id$v=19$m=8192,t=1,p=1$", 30) == 0);
	assert_null(strstr(h1, "correct"));
	assert_int_equal(auth_password_verify(h1, "correct horse battery"), 0);
	assert_int_equal(auth_password_verify(h1, "correct horse batterY"), INK_ERR_AUTH);
	assert_int_equal(auth_password_verify(h1, ""), INK_ERR_AUTH);
	/* A fresh salt each time. */
	assert_int_equal(auth_password_hash(&small, "correct horse battery", h2), 0);
	assert_string_not_equal(h1, h2);
	assert_int_equal(auth_password_verify(h2, "correct horse battery"), 0);
	/* Malformed or foreign hashes are not a wrong password. */
	assert_int_equal(auth_password_verify("garbage", "x"), INK_ERR_INVALID);
	assert_int_equal(auth_password_verify("$argon2i$v=19$m=8192,t=1,p=1$AAAA$AAAA", "x"),
	                 INK_ERR_INVALID);
	assert_int_equal(auth_password_verify("$argon2id$v=19$m=8192,t=1,p=1$!!$!!", "x"),
	                 INK_ERR_INVALID);
	h1[strlen(h1) - 4] = '\0';
	assert_int_not_equal(auth_password_verify(h1, "correct horse battery"), 0);
	/* Bad parameters. */
	{
		const struct auth_argon2 zero = { 0, 0, 0 };

		assert_int_equal(auth_password_hash(&zero, "x", h2), INK_ERR_CONFIG);
		assert_string_equal(h2, "");
	}
}

static void
test_password_policy(void **state)
{
	char why[128], pw[300];

	(void)state;
	assert_int_equal(auth_password_policy("a-long-enough-pass", "alice", 12, why, sizeof(why)), 0);
	assert_string_equal(why, "");
	/* Too short: the reason names the rule, never the password. */
	assert_int_equal(auth_password_policy("short-pw", "alice", 12, why, sizeof(why)),
	                 INK_ERR_POLICY);
	assert_non_null(strstr(why, "12"));
	assert_null(strstr(why, "short-pw"));
	assert_int_equal(auth_password_policy("", "alice", 0, why, sizeof(why)), INK_ERR_POLICY);
	/* Contains the username, whatever the case. */
	assert_int_equal(auth_password_policy("my-ALICE-password", "alice", 12, why, sizeof(why)),
	                 INK_ERR_POLICY);
	assert_non_null(strstr(why, "username"));
	assert_null(strstr(why, "ALICE"));
	assert_int_equal(auth_password_policy("aLiCe-1234567890", "Alice", 12, why, sizeof(why)),
	                 INK_ERR_POLICY);
	/* Control characters and broken UTF-8. */
	assert_int_equal(auth_password_policy("tab\there-123456", "bob", 12, why, sizeof(why)),
	                 INK_ERR_POLICY);
	assert_non_null(strstr(why, "control"));
	assert_int_equal(auth_password_policy("del\x7fhere-123456", "bob", 12, why, sizeof(why)),
	                 INK_ERR_POLICY);
	assert_int_equal(auth_password_policy("c1\xc2\x85here-123456", "bob", 12, why, sizeof(why)),
	                 INK_ERR_POLICY);
	assert_int_equal(auth_password_policy("bad\xffutf8-123456", "bob", 12, why, sizeof(why)),
	                 INK_ERR_POLICY);
	assert_int_equal(auth_password_policy("overlong\xc0\xafxx-123", "bob", 12, why, sizeof(why)),
	                 INK_ERR_POLICY);
	assert_int_equal(auth_password_policy("cut\xe3\x81", "bob", 3, why, sizeof(why)),
	                 INK_ERR_POLICY);
	/* Printable UTF-8 is fine ("inkan password" in Japanese). */
	assert_int_equal(auth_password_policy("\xe5\x8d\xb0\xe9\x91\x91\xe3\x81\xae\xe3\x83\x91"
	                                      "\xe3\x82\xb9\xe3\x83\xaf\xe3\x83\xbc\xe3\x83\x89",
	                                      "bob", 12, why, sizeof(why)), 0);
	/* 256 bytes is the maximum. */
	memset(pw, 'x', 256);
	pw[256] = '\0';
	assert_int_equal(auth_password_policy(pw, "bob", 12, why, sizeof(why)), 0);
	pw[256] = 'x';
	pw[257] = '\0';
	assert_int_equal(auth_password_policy(pw, "bob", 12, why, sizeof(why)), INK_ERR_POLICY);
	assert_non_null(strstr(why, "256"));
	/* why may be absent. */
	assert_int_equal(auth_password_policy("short", "bob", 12, NULL, 0), INK_ERR_POLICY);
}

static void
test_password_generate(void **state)
{
	char a[33], b[33], small[4];
	size_t i;

	(void)state;
	assert_int_equal(auth_password_generate(a, sizeof(a), 32), 0);
	assert_int_equal(auth_password_generate(b, sizeof(b), 32), 0);
	assert_int_equal(strlen(a), 32);
	assert_string_not_equal(a, b);
	for (i = 0; i < 32; i++) {
		assert_null(strchr("0O1lI", a[i]));
		assert_true((a[i] >= '2' && a[i] <= '9') || (a[i] >= 'A' && a[i] <= 'Z') ||
		            (a[i] >= 'a' && a[i] <= 'z'));
	}
	assert_int_equal(auth_password_generate(small, sizeof(small), 4), INK_ERR_INVALID);
	assert_int_equal(auth_password_generate(small, sizeof(small), 0), INK_ERR_INVALID);
	assert_int_equal(auth_password_generate(small, sizeof(small), 3), 0);
	assert_int_equal(strlen(small), 3);
	{
		char g[12];
		char why[64];

		assert_int_equal(auth_password_generate(g, sizeof(g), 11), 0);
		assert_int_equal(auth_password_policy(g, "@@", 10, why, sizeof(why)), 0);
	}
}

/* ---- TOTP ---- */

static void
test_totp_rfc6238(void **state)
{
	static const struct {
		int64_t t;
		uint32_t code;
	} v[] = {
		{ 59, 287082 },          /* 94287082 */
		{ 1111111109, 81804 },   /* 07081804 */
		{ 1111111111, 50471 },   /* 14050471 */
		{ 1234567890, 5924 },    /* 89005924 */
		{ 2000000000, 279037 },  /* 69279037 */
		{ 20000000000, 353130 }, /* 65353130 */
	};
	uint32_t code = 1;
	size_t i;

	(void)state;
	for (i = 0; i < INK_ARRAY_LEN(v); i++) {
		assert_int_equal(auth_totp_code(rfc_seed, RFC_SEED_LEN, v[i].t / AUTH_TOTP_STEP, &code),
		                 0);
		assert_int_equal(code, v[i].code);
	}
	assert_int_equal(auth_totp_code(rfc_seed, RFC_SEED_LEN, -1, &code), INK_ERR_INVALID);
	assert_int_equal(code, 0);
	assert_int_equal(auth_totp_code(rfc_seed, 0, 1, &code), INK_ERR_INVALID);
}

static void
test_totp_verify(void **state)
{
	const int64_t now = 1234567890, t = now / AUTH_TOTP_STEP;
	char c[8];
	uint32_t code;
	int64_t step = -1;
	int d;

	(void)state;
	assert_int_equal(auth_totp_verify(rfc_seed, RFC_SEED_LEN, "005924", now, 0, &step), 0);
	assert_int_equal(step, t);
	assert_int_equal(auth_totp_verify(rfc_seed, RFC_SEED_LEN, "287082", 59, 1, &step), 0);
	assert_int_equal(step, 1);
	assert_int_equal(auth_totp_verify(rfc_seed, RFC_SEED_LEN, "081804", 1111111109, 1, NULL), 0);
	assert_int_equal(auth_totp_verify(rfc_seed, RFC_SEED_LEN, "279037", 2000000000, 0, &step), 0);
	/* Inside the window: each step -2..+2 accepted with window 2 and reported as matched. */
	for (d = -2; d <= 2; d++) {
		assert_int_equal(auth_totp_code(rfc_seed, RFC_SEED_LEN, t + d, &code), 0);
		snprintf(c, sizeof(c), "%06u", (unsigned)code);
		assert_int_equal(auth_totp_verify(rfc_seed, RFC_SEED_LEN, c, now, 2, &step), 0);
		assert_int_equal(step, t + d);
		/* With window 0 only the current step is accepted. */
		assert_int_equal(auth_totp_verify(rfc_seed, RFC_SEED_LEN, c, now, 0, &step),
		                 d == 0 ? 0 : INK_ERR_AUTH);
	}
	/* Outside the window. */
	for (d = 2; d <= 4; d++) {
		assert_int_equal(auth_totp_code(rfc_seed, RFC_SEED_LEN, t + d, &code), 0);
		snprintf(c, sizeof(c), "%06u", (unsigned)code);
		step = 7;
		assert_int_equal(auth_totp_verify(rfc_seed, RFC_SEED_LEN, c, now, 1, &step), INK_ERR_AUTH);
		assert_int_equal(step, 0);
		assert_int_equal(auth_totp_code(rfc_seed, RFC_SEED_LEN, t - d, &code), 0);
		snprintf(c, sizeof(c), "%06u", (unsigned)code);
		assert_int_equal(auth_totp_verify(rfc_seed, RFC_SEED_LEN, c, now, 1, &step), INK_ERR_AUTH);
	}
	/* Another seed's code. */
	assert_int_equal(auth_totp_verify((const uint8_t *)"abcdefghijabcdefghij", 20, "005924", now,
	                                  0, &step), INK_ERR_AUTH);
	/* A window near the epoch does not go below step 0. */
	assert_int_equal(auth_totp_code(rfc_seed, RFC_SEED_LEN, 0, &code), 0);
	snprintf(c, sizeof(c), "%06u", (unsigned)code);
	assert_int_equal(auth_totp_verify(rfc_seed, RFC_SEED_LEN, c, 10, 3, &step), 0);
	assert_int_equal(step, 0);
	/* Bad arguments. */
	assert_int_equal(auth_totp_verify(rfc_seed, RFC_SEED_LEN, "005924", now, -1, &step),
	                 INK_ERR_INVALID);
	assert_int_equal(auth_totp_verify(rfc_seed, RFC_SEED_LEN, "005924", now, 1000, &step),
	                 INK_ERR_INVALID);
}

static void
test_totp_malformed(void **state)
{
	static const char *const bad[] = {
		"", "5924", "05924", "0005924", "00592a", " 05924", "005924 ", "+05924", "-05924",
		"00 924", "005924\n", "\xef\xbc\x90\x30\x35\x39\x32\x34", "0x5924", "５９２４",
	};
	const int64_t now = 1234567890;
	int64_t step;
	size_t i;

	(void)state;
	for (i = 0; i < INK_ARRAY_LEN(bad); i++)
		assert_int_equal(auth_totp_verify(rfc_seed, RFC_SEED_LEN, bad[i], now, 1, &step),
		                 INK_ERR_AUTH);
	assert_int_equal(auth_totp_verify(rfc_seed, RFC_SEED_LEN, NULL, now, 1, &step), INK_ERR_AUTH);
	/* "005924" followed by a NUL and more is still just "005924". */
	assert_int_equal(auth_totp_verify(rfc_seed, RFC_SEED_LEN, "005924\0" "99", now, 0, &step), 0);
}

static void
test_base32(void **state)
{
	static const struct {
		const char *in, *out;
	} v[] = {
		{ "", "" }, { "f", "MY" }, { "fo", "MZXQ" }, { "foo", "MZXW6" },
		{ "foob", "MZXW6YQ" }, { "fooba", "MZXW6YTB" }, { "foobar", "MZXW6YTBOI" },
	};
	char out[AUTH_TOTP_B32_MAX];
	size_t i;

	(void)state;
	for (i = 0; i < INK_ARRAY_LEN(v); i++) {
		assert_int_equal(auth_base32_encode((const uint8_t *)v[i].in, strlen(v[i].in), out,
		                                    sizeof(out)), 0);
		assert_string_equal(out, v[i].out);
	}
	/* A 20-byte seed takes 32 characters. */
	assert_int_equal(auth_base32_encode(rfc_seed, RFC_SEED_LEN, out, sizeof(out)), 0);
	assert_string_equal(out, "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ");
	assert_int_equal(auth_base32_encode(rfc_seed, RFC_SEED_LEN, out, 32), INK_ERR_TOO_LARGE);
	assert_int_equal(auth_base32_encode(rfc_seed, RFC_SEED_LEN, out, 33), 0);
	assert_int_equal(auth_base32_encode((const uint8_t *)"f", 1, out, 2), INK_ERR_TOO_LARGE);
	assert_string_equal(out, "");
}

static void
test_otpauth_uri(void **state)
{
	char uri[512];

	(void)state;
	assert_int_equal(auth_otpauth_uri("inkan", "alice", "GEZDGNBVGY3TQOJQ", uri, sizeof(uri)), 0);
	assert_string_equal(uri, "otpauth://totp/inkan:alice?secret=GEZDGNBVGY3TQOJQ&issuer=inkan"
	                         "&algorithm=SHA1&digits=6&period=30");
	assert_int_equal(auth_otpauth_uri("Acme & Co/JP", "bob@example.jp", "MZXW6", uri,
	                                  sizeof(uri)), 0);
	assert_string_equal(uri, "otpauth://totp/Acme%20%26%20Co%2FJP:bob%40example.jp?secret=MZXW6"
	                         "&issuer=Acme%20%26%20Co%2FJP&algorithm=SHA1&digits=6&period=30");
	/* UTF-8 issuer, byte by byte. */
	assert_int_equal(auth_otpauth_uri("\xe5\x8d\xb0", "a", "MY", uri, sizeof(uri)), 0);
	assert_non_null(strstr(uri, "totp/%E5%8D%B0:a?"));
	/* Refused: colon in the label, bad secret, empty parts, too small. */
	assert_int_equal(auth_otpauth_uri("a:b", "alice", "MY", uri, sizeof(uri)), INK_ERR_INVALID);
	assert_int_equal(auth_otpauth_uri("inkan", "alice", "my", uri, sizeof(uri)), INK_ERR_INVALID);
	assert_int_equal(auth_otpauth_uri("inkan", "alice", "MY&x=1", uri, sizeof(uri)),
	                 INK_ERR_INVALID);
	assert_int_equal(auth_otpauth_uri("", "alice", "MY", uri, sizeof(uri)), INK_ERR_INVALID);
	assert_int_equal(auth_otpauth_uri("inkan", "alice", "GEZDGNBVGY3TQOJQ", uri, 40),
	                 INK_ERR_TOO_LARGE);
	assert_string_equal(uri, "");
}

/* ---- tokens ---- */

static void
test_tokens(void **state)
{
	char t1[AUTH_TOKEN_CHARS + 1], t2[AUTH_TOKEN_CHARS + 1], bad[64];
	uint8_t h1[32], h2[32], want[32];
	unsigned int wl = 0;
	size_t i;

	(void)state;
	assert_int_equal(auth_token_new(t1, h1), 0);
	assert_int_equal(auth_token_new(t2, h2), 0);
	assert_int_equal(strlen(t1), AUTH_TOKEN_CHARS);
	assert_string_not_equal(t1, t2);
	assert_memory_not_equal(h1, h2, 32);
	for (i = 0; i < AUTH_TOKEN_CHARS; i++)
		assert_non_null(strchr("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_",
		                       t1[i]));
	/* The stored hash is SHA-256 of the token string. */
	assert_int_equal(EVP_Digest(t1, AUTH_TOKEN_CHARS, want, &wl, EVP_sha256(), NULL), 1);
	assert_memory_equal(h1, want, 32);
	assert_int_equal(auth_token_hash(t1, h2), 0);
	assert_memory_equal(h1, h2, 32);
	/* Not of the token form. */
	assert_int_equal(auth_token_hash(NULL, h2), INK_ERR_AUTH);
	assert_int_equal(auth_token_hash("", h2), INK_ERR_AUTH);
	memcpy(bad, t1, sizeof(t1));
	bad[42] = '\0';
	assert_int_equal(auth_token_hash(bad, h2), INK_ERR_AUTH);
	memcpy(bad, t1, sizeof(t1));
	bad[43] = 'A';
	bad[44] = '\0';
	assert_int_equal(auth_token_hash(bad, h2), INK_ERR_AUTH);
	memcpy(bad, t1, sizeof(t1));
	bad[10] = '+';
	assert_int_equal(auth_token_hash(bad, h2), INK_ERR_AUTH);
	bad[10] = '/';
	assert_int_equal(auth_token_hash(bad, h2), INK_ERR_AUTH);
	bad[10] = '=';
	assert_int_equal(auth_token_hash(bad, h2), INK_ERR_AUTH);
	bad[10] = ' ';
	assert_int_equal(auth_token_hash(bad, h2), INK_ERR_AUTH);
	memset(bad, 'A', AUTH_TOKEN_CHARS);
	bad[AUTH_TOKEN_CHARS] = '\0';
	assert_int_equal(auth_token_hash(bad, h2), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_role_names),
		cmocka_unit_test(test_sod),
		cmocka_unit_test(test_allowed_table),
		cmocka_unit_test(test_username),
		cmocka_unit_test(test_password_hash_verify),
		cmocka_unit_test(test_password_policy),
		cmocka_unit_test(test_password_generate),
		cmocka_unit_test(test_totp_rfc6238),
		cmocka_unit_test(test_totp_verify),
		cmocka_unit_test(test_totp_malformed),
		cmocka_unit_test(test_base32),
		cmocka_unit_test(test_otpauth_uri),
		cmocka_unit_test(test_tokens),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
