/* levels: the assurance levels (docs/configuration.md, "Assurance levels"). One setting,
 * assurance_level, sets every policy that depends on it; a level only ever adds to the floors
 * that hold at every level (two factors, SCAL2 SADs minted by inkan-sam, the CRYPTREC
 * algorithms, signer certificates for electronic signatures only). */
#include "policy/policy.h"

#include <stdio.h>
#include <string.h>

static const struct policy_level levels[] = {
	{ .level = 1, .pin_min_len = 6, .sad_ttl_max = 3600, .multisign_max = 1000, .rsa2048 = true,
	  .cert_minutes_min = 1 },
	{ .level = 2, .pin_min_len = 6, .sad_ttl_max = 900, .multisign_max = 1000, .rsa2048 = true,
	  .cert_minutes_min = 1 },
	{ .level = 3, .pin_min_len = 6, .sad_ttl_max = 300, .multisign_max = 1000, .rsa2048 = true,
	  .cert_minutes_min = 1440 },
	{ .level = 4, .pin_min_len = 8, .sad_ttl_max = 300, .multisign_max = 100, .rsa2048 = false,
	  .pkcs11_required = true, .tsa_synced_clock = true, .cert_minutes_min = 1440 },
};

const struct policy_level *
policy_level_of(int64_t level)
{
	return level >= 1 && level <= (int64_t)INK_ARRAY_LEN(levels) ? &levels[level - 1] : NULL;
}

size_t
policy_pin_min(const struct ink_config *cfg)
{
	const struct policy_level *l = policy_level_of(cfg->assurance_level);
	size_t floor = l != NULL ? l->pin_min_len : POLICY_PIN_MIN_DEFAULT;

	return cfg->pin_min_len > (int64_t)floor ? (size_t)cfg->pin_min_len : floor;
}

bool
policy_tsa_needs_synced_clock(const struct ink_config *cfg)
{
	const struct policy_level *l = policy_level_of(cfg->assurance_level);

	return cfg->tsa_require_synced_clock || l == NULL || l->tsa_synced_clock;
}

int
policy_check_config(const struct ink_config *cfg, char *why, size_t whysz)
{
	const struct policy_level *l = policy_level_of(cfg->assurance_level);
	bool soft = cfg->key_backend[0] == '\0' || strcmp(cfg->key_backend, "soft") == 0;

	if (l == NULL) {
		snprintf(why, whysz, "assurance_level must be 1 to 4");
		return INK_ERR_CONFIG;
	}
	if (cfg->pin_min_len != 0 && cfg->pin_min_len < (int64_t)l->pin_min_len) {
		snprintf(why, whysz, "pin_min_len %lld is below assurance level %d's %zu (0: the level's)",
		         (long long)cfg->pin_min_len, l->level, l->pin_min_len);
		return INK_ERR_CONFIG;
	}
	if (cfg->sad_ttl > l->sad_ttl_max) {
		snprintf(why, whysz, "sad_ttl %lld is above assurance level %d's %lld seconds",
		         (long long)cfg->sad_ttl, l->level, (long long)l->sad_ttl_max);
		return INK_ERR_CONFIG;
	}
	if (cfg->multisign > l->multisign_max) {
		snprintf(why, whysz, "multisign %lld is above assurance level %d's %lld",
		         (long long)cfg->multisign, l->level, (long long)l->multisign_max);
		return INK_ERR_CONFIG;
	}
	/* a certificate shorter-lived than a day is for levels that accept the risk of a status
	 * nobody may have had the time to publish */
	if (cfg->cert_minutes != 0 && cfg->cert_minutes < l->cert_minutes_min) {
		snprintf(why, whysz, "cert_minutes %lld is below assurance level %d's %lld (0: cert_days)",
		         (long long)cfg->cert_minutes, l->level, (long long)l->cert_minutes_min);
		return INK_ERR_CONFIG;
	}
	if (l->pkcs11_required && soft && !cfg->allow_software_keys) {
		snprintf(why, whysz, "assurance level %d keeps signing keys in a PKCS#11 token "
		         "(key_backend = pkcs11); allow_software_keys is for tests only", l->level);
		return INK_ERR_CONFIG;
	}
	return 0;
}
