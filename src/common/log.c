/* log: structured single-line records on stderr (journald keeps them when run as a unit). */
#include "common/common.h"

#include <pthread.h>
#include <stdio.h>
#include <string.h>

static const char *log_prog = "inkan";
static enum ink_log_level log_min = INK_LOG_INFO;
static pthread_mutex_t log_lock = PTHREAD_MUTEX_INITIALIZER;

void
ink_log_init(const char *prog, enum ink_log_level min)
{
	log_prog = prog;
	log_min = min;
}

void
ink_log(enum ink_log_level lvl, const char *func, const char *fmt, ...)
{
	static const char *const names[] = { "debug", "info", "warn", "error" };
	char msg[1024], ts[21];
	va_list ap;
	size_t i;

	if (lvl < log_min)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	/* One record per line: neutralise control characters and quotes from any input. */
	for (i = 0; msg[i] != '\0'; i++)
		if ((unsigned char)msg[i] < 0x20 || msg[i] == '"' || msg[i] == 0x7f)
			msg[i] = '_';
	ink_time_str(ink_now(), ts);
	pthread_mutex_lock(&log_lock);
	fprintf(stderr, "time=%s level=%s prog=%s func=%s msg=\"%s\"\n", ts, names[lvl], log_prog,
	        func, msg);
	pthread_mutex_unlock(&log_lock);
}
