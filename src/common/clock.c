/* clock: the kernel's word on the system clock (ISO/IEC 27017 12.4.4, clock synchronisation).
 * Read only: adjtimex with no mode bits set changes nothing. */
#include "common/common.h"

#include <stdio.h>
#include <sys/timex.h>
#include <time.h>

int
ink_clock_state(struct ink_clock *c)
{
	struct timex tx = { 0 };
	int state;

	*c = (struct ink_clock){ 0 };
	if ((state = adjtimex(&tx)) < 0)
		return INK_ERR_IO;
	c->synced = state != TIME_ERROR && (tx.status & STA_UNSYNC) == 0;
	c->maxerror_us = tx.maxerror;
	c->esterror_us = tx.esterror;
	return 0;
}

int
ink_clock_vouch(char *why, size_t whysz)
{
	struct ink_clock c;

	if (ink_clock_state(&c) != 0) {
		snprintf(why, whysz, "the kernel does not say whether the clock is synchronised");
		return INK_ERR_CLOCK;
	}
	if (!c.synced) {
		snprintf(why, whysz, "the clock is not synchronised (maximum error %lld ms)",
		         (long long)(c.maxerror_us / 1000));
		return INK_ERR_CLOCK;
	}
	if (c.maxerror_us > INK_CLOCK_ACCURACY_US) {
		snprintf(why, whysz, "the clock's maximum error (%lld ms) exceeds the declared accuracy",
		         (long long)(c.maxerror_us / 1000));
		return INK_ERR_CLOCK;
	}
	return 0;
}

static int64_t
now_us(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

void
ink_clock_mark(struct ink_clock_mark *m)
{
	m->mono_us = now_us(CLOCK_MONOTONIC);
	m->real_us = now_us(CLOCK_REALTIME);
}

int64_t
ink_clock_jump(struct ink_clock_mark *m)
{
	struct ink_clock_mark now;
	int64_t jump;

	ink_clock_mark(&now);
	jump = (now.real_us - m->real_us) - (now.mono_us - m->mono_us);
	*m = now;
	return jump;
}
