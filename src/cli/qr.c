/* qr: otpauth URIs as QR codes on the terminal (libqrencode, Unicode half blocks). */
#include "cli/cli.h"

#include <qrencode.h>
#include <unistd.h>

#define QR_QUIET 2 /* modules of light border; scanners cope with less than the nominal 4 */

/* Is module (x, y) dark? Outside the symbol (the quiet zone) is light. */
static bool
qr_dark(const QRcode *q, int x, int y)
{
	if (x < 0 || y < 0 || x >= q->width || y >= q->width)
		return false;
	return (q->data[y * q->width + x] & 1) != 0;
}

int
cli_qr_print(FILE *f, const char *text)
{
	QRcode *q = NULL;
	bool top, bot;
	int x, y;

	if ((q = QRcode_encodeString(text, 0, QR_ECLEVEL_L, QR_MODE_8, 1)) == NULL)
		return INK_ERR_INVALID;
	/* Two module rows per text line: the upper half is the foreground of U+2580, the lower
	 * half of U+2584. Light modules are drawn in white on an explicit black background. */
	for (y = -QR_QUIET; y < q->width + QR_QUIET; y += 2) {
		fputs("\033[40;97m", f);
		for (x = -QR_QUIET; x < q->width + QR_QUIET; x++) {
			top = !qr_dark(q, x, y);
			bot = y + 1 < q->width + QR_QUIET && !qr_dark(q, x, y + 1);
			if (top && bot)
				fputs("\u2588", f);
			else if (top)
				fputs("\u2580", f);
			else if (bot)
				fputs("\u2584", f);
			else
				fputc(' ', f);
		}
		fputs("\033[0m\n", f);
	}
	QRcode_free(q);
	return 0;
}

void
cli_print_secrets(const char *username, const char *password, const char *totp_secret,
                  const char *otpauth_uri)
{
	printf("One-time credentials for ");
	cli_put_safe(stdout, username);
	printf(" (shown only this once):\n");
	printf("  password     ");
	cli_put_safe(stdout, password);
	printf("\n");
	if (totp_secret == NULL || otpauth_uri == NULL)
		return;
	printf("  TOTP secret  ");
	cli_put_safe(stdout, totp_secret);
	printf("\n  otpauth URI  ");
	cli_put_safe(stdout, otpauth_uri);
	printf("\n");
	if (isatty(STDOUT_FILENO) && *otpauth_uri != '\0') {
		printf("\nScan with an authenticator app:\n");
		fflush(stdout);
		if (cli_qr_print(stdout, otpauth_uri) != 0)
			printf("  (the URI does not fit in a QR code)\n");
	}
}
