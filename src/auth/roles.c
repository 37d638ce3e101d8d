/* roles: EN 419 241-1 role names, separation-of-duties rules and the one permission table. */
#include "auth/auth.h"

#include <string.h>

static const struct {
	uint32_t role;
	const char *name;
} role_names[] = {
	{ AUTH_ROLE_SECURITY_OFFICER, "security_officer" },
	{ AUTH_ROLE_SYSTEM_ADMINISTRATOR, "system_administrator" },
	{ AUTH_ROLE_SYSTEM_OPERATOR, "system_operator" },
	{ AUTH_ROLE_SYSTEM_AUDITOR, "system_auditor" },
	{ AUTH_ROLE_REGISTRATION_OFFICER, "registration_officer" },
	{ AUTH_ROLE_SIGNER, "signer" },
};

/* Which roles hold each permission. Everything not listed here is refused: a new permission
 * is denied to every role until someone decides who gets it. */
static const uint32_t perm_roles[] = {
	[AUTH_PERM_USER_READ] = AUTH_ROLE_SECURITY_OFFICER | AUTH_ROLE_REGISTRATION_OFFICER,
	[AUTH_PERM_SIGNER_MANAGE] = AUTH_ROLE_REGISTRATION_OFFICER,
	[AUTH_PERM_PRIVILEGED_MANAGE] = AUTH_ROLE_SECURITY_OFFICER,
	[AUTH_PERM_UNLOCK] = AUTH_ROLE_REGISTRATION_OFFICER,
	[AUTH_PERM_AUDIT_READ] = AUTH_ROLE_SYSTEM_AUDITOR,
	[AUTH_PERM_CONFIG_READ] = AUTH_ROLE_SYSTEM_ADMINISTRATOR,
	[AUTH_PERM_SIGN] = AUTH_ROLE_SIGNER,
	[AUTH_PERM_KEY_ADMIN] = AUTH_ROLE_SECURITY_OFFICER,
	[AUTH_PERM_BACKUP] = AUTH_ROLE_SYSTEM_OPERATOR,
	/* which programs may ask signers for signatures: a security decision */
	[AUTH_PERM_CLIENT_MANAGE] = AUTH_ROLE_SECURITY_OFFICER,
};

const char *
auth_role_name(uint32_t role)
{
	size_t i;

	for (i = 0; i < INK_ARRAY_LEN(role_names); i++) {
		if (role_names[i].role == role)
			return role_names[i].name;
	}
	return NULL;
}

int
auth_role_parse(const char *name, uint32_t *role)
{
	size_t i;

	*role = 0;
	if (name == NULL)
		return INK_ERR_INVALID;
	for (i = 0; i < INK_ARRAY_LEN(role_names); i++) {
		if (strcmp(role_names[i].name, name) == 0) {
			*role = role_names[i].role;
			return 0;
		}
	}
	return INK_ERR_INVALID;
}

void
auth_roles_str(uint32_t roles, char *out, size_t outsz)
{
	size_t i, used = 0, n;

	if (outsz == 0)
		return;
	out[0] = '\0';
	for (i = 0; i < INK_ARRAY_LEN(role_names); i++) {
		if ((roles & role_names[i].role) == 0)
			continue;
		n = strlen(role_names[i].name);
		/* A name that does not fit is left out whole rather than cut in half. */
		if (used + (used > 0) + n >= outsz)
			break;
		if (used > 0)
			out[used++] = ',';
		memcpy(out + used, role_names[i].name, n + 1);
		used += n;
	}
}

int
auth_roles_check(uint32_t roles, const char **why)
{
	const char *w = NULL;
	int r = INK_ERR_SOD;

	if (why != NULL)
		*why = NULL;
	if ((roles & ~(uint32_t)AUTH_ROLES_ALL) != 0) {
		w = "unknown role";
		r = INK_ERR_INVALID;
		goto out;
	}
	if (roles == 0) {
		w = "an account needs at least one role";
		goto out;
	}
	if ((roles & AUTH_ROLES_PRIVILEGED) == AUTH_ROLES_PRIVILEGED) {
		w = "nobody may hold every privileged role";
		goto out;
	}
	if ((roles & AUTH_ROLES_PRIVILEGED) != 0 && (roles & AUTH_ROLE_SIGNER) != 0) {
		w = "a privileged account may not also be a signer";
		goto out;
	}
	/* The officer who manages keys must not also be the one who audits that management. */
	if ((roles & AUTH_ROLE_SECURITY_OFFICER) != 0 && (roles & AUTH_ROLE_SYSTEM_AUDITOR) != 0) {
		w = "the security officer may not also be the system auditor";
		goto out;
	}
	/* Who registers persons must not be who manages keys and privileged accounts: else one
	 * officer could register a second identity and grant it what they like. */
	if ((roles & AUTH_ROLE_SECURITY_OFFICER) != 0 && (roles & AUTH_ROLE_REGISTRATION_OFFICER) != 0) {
		w = "the security officer may not also be the registration officer";
		goto out;
	}
	/* The auditor checks everyone else's actions, so holds no role that acts (EN 419 241-1's
	 * independent auditor); this also rules out every pairing not named above. */
	if ((roles & AUTH_ROLE_SYSTEM_AUDITOR) != 0 && roles != AUTH_ROLE_SYSTEM_AUDITOR) {
		w = "the system auditor may hold no other role";
		goto out;
	}
	r = 0;
out:
	if (why != NULL)
		*why = w;
	return r;
}

bool
auth_allowed(uint32_t roles, enum auth_perm perm)
{
	if ((size_t)perm >= INK_ARRAY_LEN(perm_roles))
		return false;
	return (roles & perm_roles[perm]) != 0;
}

bool
auth_username_valid(const char *name)
{
	size_t i;
	char c;

	if (name == NULL || name[0] == '\0' || name[0] == '-' || name[0] == '.')
		return false;
	for (i = 0; name[i] != '\0'; i++) {
		if (i >= STORE_NAME_MAX)
			return false;
		c = name[i];
		/* ASCII ranges spelled out: isalnum() would follow the locale. */
		if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		    c == '.' || c == '_' || c == '@' || c == '-')
			continue;
		return false;
	}
	return true;
}
