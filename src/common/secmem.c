/* secmem: memory for secrets that is locked, kept out of core dumps and wiped on release. */
#include "common/common.h"

#include <jansson.h>
#include <openssl/crypto.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>

/* Small blocks come from OpenSSL's secure heap when the process set one up
 * (CRYPTO_secure_malloc_init: one locked, MADV_DONTDUMP arena with guard pages), so that a
 * request's key and KEK cost no system calls; larger blocks, and any when the heap is full or
 * absent, are a mapping of their own: a header page-aligned block holding the length. */
#define SECMEM_HDR 16
#define SECMEM_HEAP_MAX 4096

void
secmem_harden_process(void)
{
	struct rlimit rl = { 0, 0 };

	(void)setrlimit(RLIMIT_CORE, &rl);
	(void)prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
}

void *
secmem_alloc(size_t len)
{
	size_t total;
	uint8_t *p;

	if (len <= SECMEM_HEAP_MAX && CRYPTO_secure_malloc_initialized() &&
	    (p = OPENSSL_secure_zalloc(len)) != NULL)
		return p;
	if (len > SIZE_MAX - SECMEM_HDR)
		return NULL;
	total = len + SECMEM_HDR;
	p = mmap(NULL, total, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		return NULL;
	/* mlock may fail under a small RLIMIT_MEMLOCK; the memory is still excluded from dumps. */
	(void)mlock(p, total);
	(void)madvise(p, total, MADV_DONTDUMP);
	memcpy(p, &total, sizeof(total));
	return p + SECMEM_HDR;
}

void
secmem_free(void *ptr)
{
	uint8_t *p;
	size_t total;

	if (ptr == NULL)
		return;
	if (CRYPTO_secure_allocated(ptr)) {
		OPENSSL_secure_clear_free(ptr, OPENSSL_secure_actual_size(ptr));
		return;
	}
	p = (uint8_t *)ptr - SECMEM_HDR;
	memcpy(&total, p, sizeof(total));
	OPENSSL_cleanse(p, total);
	(void)munlock(p, total);
	(void)munmap(p, total);
}

char *
secmem_strdup(const char *s)
{
	size_t n = strlen(s);
	char *p = secmem_alloc(n + 1);

	if (p != NULL)
		memcpy(p, s, n + 1);
	return p;
}

void
ink_freezero_str(char *s)
{
	if (s == NULL)
		return;
	OPENSSL_cleanse(s, strlen(s));
	free(s);
}

bool
ink_ct_equal(const void *a, const void *b, size_t len)
{
	return CRYPTO_memcmp(a, b, len) == 0;
}

/* jansson keeps copies of every string it parses: a password in a request body would
 * otherwise linger in freed heap memory. */
static void *
json_wipe_malloc(size_t n)
{
	uint8_t *p;

	if (n > SIZE_MAX - SECMEM_HDR)
		return NULL;
	p = malloc(n + SECMEM_HDR);
	if (p == NULL)
		return NULL;
	memcpy(p, &n, sizeof(n));
	return p + SECMEM_HDR;
}

static void
json_wipe_free(void *ptr)
{
	uint8_t *p;
	size_t n;

	if (ptr == NULL)
		return;
	p = (uint8_t *)ptr - SECMEM_HDR;
	memcpy(&n, p, sizeof(n));
	OPENSSL_cleanse(p, n + SECMEM_HDR);
	free(p);
}

void
secmem_json_wipe_on_free(void)
{
	json_set_alloc_funcs(json_wipe_malloc, json_wipe_free);
}
