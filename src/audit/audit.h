/* audit: the audit trail. Every security-relevant event goes through audit_append(); nothing
 * else writes the audit rows, and nothing updates or deletes them. */
#ifndef INKAN_AUDIT_H
#define INKAN_AUDIT_H

#include "common/common.h"
#include "store/store.h"

/* One event. NULL fields are recorded as "-". Values are truncated to the store's limits and
 * must never contain a secret (password, PIN, OTP, token, seed, key). */
struct audit_event {
	const char *actor;       /* username, or NULL for the system / an unknown caller */
	const char *role;        /* roles the actor acted with, e.g. "registration_officer" */
	const char *action;      /* dotted event name, e.g. "auth.login", "user.create" */
	const char *subject;     /* the object acted on: a username, credential id, serial */
	const char *result;      /* "success", or a short reason of refusal/failure */
	const char *request_id;
	const char *source;      /* client address */
	const char *detail;      /* optional free text */
};

#define AUDIT_SUCCESS "success"

/* Appends one record, stamped with the current UTC time; durable on return. A failure to
 * write the audit trail is an error the caller must treat as fatal for the operation. */
int audit_append(struct store *st, const struct audit_event *ev) INK_WUR;
/* Appends up to AUDIT_MANY_MAX records in one durable commit (in order, one time stamp). */
#define AUDIT_MANY_MAX 32
int audit_append_many(struct store *st, const struct audit_event *evs, size_t n) INK_WUR;
/* Reads records with seq > after (at most limit); *out malloc'd, free() it. */
int audit_read(struct store *st, int64_t after, size_t limit, struct store_audit_rec **out,
               size_t *n) INK_WUR;

#endif
