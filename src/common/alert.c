/* alert: security events (ISO/IEC 27017 16.1.2) also go where an operator's alerting looks —
 * the journal (native protocol, with a stable MESSAGE_ID) where it runs, else syslog (the id in
 * the text) — besides the daemon's own log line. Never blocks: one datagram, sent or dropped. */
#include "common/common.h"

#include <errno.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

/* The names and journal MESSAGE_IDs are stable: operators' rules match them (docs/operations.md). */
static const struct {
	const char *name;
	const char *message_id;
} alerts[INK_ALERT_N_] = {
	[INK_ALERT_PERSON_LOCKED] = { "inkan.person.locked", "7b9de557f0d921ef2e85b7b0fbf7b113" },
	[INK_ALERT_KEY_LOCKED] = { "inkan.key.locked", "f1ae430ddb7b992d13bcc23232fbc0db" },
	[INK_ALERT_ACCOUNT_LOCKED] = { "inkan.account.locked", "8f065ede1f2ad6aa2d5b50623c01493b" },
	[INK_ALERT_SAM_DIED] = { "inkan.sam.died", "7968fc51b7e28293a2a1bab740378aed" },
	[INK_ALERT_AUDIT] = { "inkan.audit.failure", "b25e4c6a4d499724f276ceb874f6752c" },
	[INK_ALERT_CLOCK] = { "inkan.clock", "f686c8e67971c3fd0ccbe6e0c925b792" },
	[INK_ALERT_REFUSALS] = { "inkan.refusals", "81caa4d07ef44558162e6fad5786b7c9" },
};

static char journal_path[108] = "/run/systemd/journal/socket";
static char syslog_path[108] = "/dev/log";
static const char *alert_prog = "inkan";
static atomic_ullong raised[INK_ALERT_N_];

void
ink_alert_init(const char *prog, const char *journal_socket, const char *syslog_socket)
{
	alert_prog = prog;
	if (journal_socket != NULL)
		snprintf(journal_path, sizeof(journal_path), "%s", journal_socket);
	if (syslog_socket != NULL)
		snprintf(syslog_path, sizeof(syslog_path), "%s", syslog_socket);
}

const char *
ink_alert_name(enum ink_alert a)
{
	return a >= 0 && a < INK_ALERT_N_ ? alerts[a].name : "inkan.unknown";
}

unsigned long long
ink_alert_count(enum ink_alert a)
{
	return a >= 0 && a < INK_ALERT_N_ ? atomic_load_explicit(&raised[a], memory_order_relaxed) : 0;
}

/* One datagram to the socket at path; 0 when it was taken. */
static int
send_to(const char *path, const char *msg, size_t len)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct stat st;
	ssize_t n;
	int fd;

	if (path[0] == '\0' || stat(path, &st) != 0 || !S_ISSOCK(st.st_mode) ||
	    strlen(path) >= sizeof(sa.sun_path))
		return -1;
	memcpy(sa.sun_path, path, strlen(path) + 1);
	if ((fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0)) < 0)
		return -1;
	do {
		n = sendto(fd, msg, len, MSG_DONTWAIT | MSG_NOSIGNAL, (struct sockaddr *)&sa, sizeof(sa));
	} while (n < 0 && errno == EINTR);
	close(fd);
	return n == (ssize_t)len ? 0 : -1;
}

void
ink_alert(enum ink_alert a, const char *fmt, ...)
{
	char text[512], msg[1024], stamp[32];
	struct tm tm;
	time_t now = time(NULL);
	va_list ap;
	size_t i;
	int n;

	if (a < 0 || a >= INK_ALERT_N_)
		return;
	atomic_fetch_add_explicit(&raised[a], 1, memory_order_relaxed);
	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	/* one line, one field: no control character reaches the journal's KEY=VALUE lines */
	for (i = 0; text[i] != '\0'; i++)
		if ((unsigned char)text[i] < 0x20 || text[i] == 0x7f)
			text[i] = '_';
	log_warn("alert=%s %s", alerts[a].name, text);
	n = snprintf(msg, sizeof(msg), "MESSAGE=%s\nMESSAGE_ID=%s\nPRIORITY=4\nSYSLOG_FACILITY=10\n"
	             "SYSLOG_IDENTIFIER=%s\nINKAN_ALERT=%s\n", text, alerts[a].message_id, alert_prog,
	             alerts[a].name);
	if (n > 0 && (size_t)n < sizeof(msg) && send_to(journal_path, msg, (size_t)n) == 0)
		return;
	/* syslog (RFC 3164): authpriv.warning, the stable name in the text */
	gmtime_r(&now, &tm);
	strftime(stamp, sizeof(stamp), "%b %e %H:%M:%S", &tm);
	n = snprintf(msg, sizeof(msg), "<%d>%s %s[%d]: alert=%s %s", 10 * 8 + 4, stamp, alert_prog,
	             (int)getpid(), alerts[a].name, text);
	if (n > 0 && (size_t)n < sizeof(msg))
		(void)send_to(syslog_path, msg, (size_t)n);
}
