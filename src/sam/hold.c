/* hold: what a request does with one credential while it works without the SAM's lock. Only
 * what really needs exclusion excludes, and only the credential it touches: signatures with a
 * credential go on beside each other and beside a PIN check of it; PIN checks of one
 * credential go one at a time (so that its attempt counter counts every wrong PIN before the
 * next is tried); a change of its key or state (a new PIN, revocation, renewal, unlock, a
 * linked certificate) waits for all of these and keeps them out while it runs. A change
 * waiting keeps newcomers out, so that a revocation does not wait behind a stream of
 * signatures. The table is guarded by s->mu, and a wait lets go of it (and of s->ks). */
#include "sam/sam_int.h"

#include <stdio.h>
#include <string.h>

/* Each request holds at most one credential, and each channel serves one request at a time:
 * SAM_CHANNELS_MAX entries always do. */
static struct sam_hold_slot *
slot_of(struct sam_state *s, const char *id)
{
	struct sam_hold_slot *free_slot = NULL;
	size_t i;

	for (i = 0; i < INK_ARRAY_LEN(s->holds); i++) {
		if (s->holds[i].refs == 0) {
			if (free_slot == NULL)
				free_slot = &s->holds[i];
		} else if (strcmp(s->holds[i].id, id) == 0)
			return &s->holds[i];
	}
	if (free_slot != NULL) {
		memset(free_slot, 0, sizeof(*free_slot));
		snprintf(free_slot->id, sizeof(free_slot->id), "%s", id);
	}
	return free_slot;
}

static bool
may_start(const struct sam_hold_slot *h, enum sam_use use)
{
	switch (use) {
	case SAM_USE_SIGN:
		return !h->change && h->changes_waiting == 0;
	case SAM_USE_PIN:
		return !h->change && h->changes_waiting == 0 && !h->pin;
	case SAM_USE_CHANGE:
		return !h->change && !h->pin && h->signing == 0;
	}
	return false;
}

int
sam_cred_hold(struct sam_state *s, const char *id, enum sam_use use)
{
	struct sam_hold_slot *h;
	unsigned was = sam_held();

	if (id == NULL || strlen(id) >= sizeof(h->id))
		return INK_ERR_PROTOCOL;
	sam_lock(s, SAM_LOCK_MU);
	if ((h = slot_of(s, id)) == NULL) {
		sam_relock(s, was);
		log_bug("no room to hold a credential (more requests than channels)");
		return INK_ERR_INTERNAL;
	}
	h->refs++;
	if (use == SAM_USE_CHANGE)
		h->changes_waiting++;
	while (!may_start(h, use))
		sam_wait_holds(s);
	switch (use) {
	case SAM_USE_SIGN:
		h->signing++;
		break;
	case SAM_USE_PIN:
		h->pin = true;
		break;
	case SAM_USE_CHANGE:
		h->changes_waiting--;
		h->change = true;
		break;
	}
	sam_relock(s, was);
	return 0;
}

void
sam_cred_release(struct sam_state *s, const char *id, enum sam_use use)
{
	struct sam_hold_slot *h = NULL;
	unsigned was = sam_held();
	size_t i;

	sam_lock(s, SAM_LOCK_MU);
	for (i = 0; i < INK_ARRAY_LEN(s->holds) && h == NULL; i++)
		if (s->holds[i].refs > 0 && strcmp(s->holds[i].id, id) == 0)
			h = &s->holds[i];
	if (h == NULL) {
		sam_relock(s, was);
		log_bug("released a credential that was not held");
		return;
	}
	switch (use) {
	case SAM_USE_SIGN:
		h->signing--;
		break;
	case SAM_USE_PIN:
		h->pin = false;
		break;
	case SAM_USE_CHANGE:
		h->change = false;
		break;
	}
	h->refs--;
	pthread_cond_broadcast(&s->holds_freed);
	sam_relock(s, was);
}
