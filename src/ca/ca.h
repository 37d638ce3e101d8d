/* ca: certificates. For now: the self-signed TLS certificate of the embedded default. */
#ifndef INKAN_CA_H
#define INKAN_CA_H

#include "common/common.h"

/* Makes an ECDSA P-256 key (PEM, mode 0600) and a self-signed X.509 v3 certificate valid for
 * `days` days for "localhost" and 127.0.0.1 (subjectAltName), serverAuth EKU. */
int ca_make_tls_cert(const char *cert_path, const char *key_path, int days) INK_WUR;

#endif
