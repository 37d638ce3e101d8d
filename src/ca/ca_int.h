/* ca_int: helpers shared by the CA's files (names, keys against policy, issuer checks, extensions). */
#ifndef INKAN_CA_INT_H
#define INKAN_CA_INT_H

#include <openssl/x509v3.h>

#include "ca/ca.h"

/* Backdating of notBefore / thisUpdate, for relying parties whose clock runs a little behind. */
#define CA_BACKDATE_SECS 300
/* A revocation time may be this far ahead of our clock (another node's clock). */
#define CA_CLOCK_SLACK_SECS 300

/* Builds the X509_NAME of subj after checking every field (INK_ERR_INVALID). */
int ca_int_name(const struct ca_subject *subj, X509_NAME **name) INK_WUR;
/* Checks key against policy_check_key(); logs the RSA-2048 warning. */
int ca_int_check_key(EVP_PKEY *key, char *why, size_t whysz) INK_WUR;
/* The digest to sign with key (NULL for EdDSA), chosen by the key's security strength. */
int ca_int_digest(EVP_PKEY *key, const EVP_MD **md) INK_WUR;
/* Checks that issuer is a currently valid CA certificate with keyUsage ku_bit for issuer_key. */
int ca_int_check_issuer(EVP_PKEY *issuer_key, X509 *issuer, uint32_t ku_bit) INK_WUR;
/* Adds a config-syntax extension (fixed strings only) to x, issued by issuer (x itself if NULL). */
/* A random serial: CA_SERIAL_LEN bytes, positive, always full length. */
#define CA_SERIAL_LEN 16
int ca_int_set_serial(X509 *x) INK_WUR;
int ca_int_add_ext(X509 *x, X509 *issuer, int nid, const char *value) INK_WUR;
/* Serial as upper-case hex without leading zeros into out[outsz]. */
int ca_int_serial_hex(const ASN1_INTEGER *serial, char *out, size_t outsz) INK_WUR;

#endif
