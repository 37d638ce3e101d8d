/* state: what the authorization server keeps in inkand's memory — page sessions (cookie, CSRF
 * token, the pending request, the signer's login), authorization codes (each holding one SAD
 * until it is redeemed) and the access tokens issued from them. Only hashes of cookies, codes
 * and tokens are kept as keys; the SAD a code holds and a page's bearer token live in locked
 * memory and are wiped when they go. Bounded: past the caps new entries are refused. */
#include "oauth/oauth.h"

#include <openssl/crypto.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PAGES_MAX 4096
#define CODES_MAX 4096
#define TOKENS_MAX 16384
#define PARS_MAX 1024
/* Page sessions nobody logged in through yet, per source address: past it the source's own
 * oldest one makes room, so one address cannot push out other signers' pages. */
#define PAGES_PER_SOURCE 64
/* Live pushed requests per source address (a public client's id is public: anyone may push
 * in its name), so that one address cannot fill the table for every client. */
#define PARS_PER_SOURCE 64

/* What every entry of the four lists starts with: the next one, and when it goes. */
struct node {
	struct node *next;
	int64_t until;
	void (*free)(struct node *n);  /* wipes and frees the whole entry */
};

struct page {
	struct node n;                 /* until: idle expiry */
	uint8_t id_hash[32];
	char csrf[OAUTH_TOKEN_CHARS + 1];
	char *token;                   /* secmem: the signer's bearer token, after login */
	char source[64];               /* the address that opened it */
	bool has_req;
	struct oauth_request req;
};

struct code {
	struct node n;                 /* until: a redeemed code is kept to recognise a replay */
	uint8_t id_hash[32];
	char client_id[STORE_ID_LEN + 1];
	char redirect_uri[OAUTH_URI_MAX + 1];
	char challenge[OAUTH_TOKEN_CHARS + 1];
	struct oauth_token_info info;
	char *sad;                     /* secmem; NULL once redeemed */
	uint8_t token_hash[32];        /* of the token issued from it (after redemption) */
	bool issued;                   /* a token was issued from it (else a failed try spent it) */
	int64_t expires;               /* of the code */
};

struct token {
	struct node n;                 /* until: the token's expiry */
	uint8_t id_hash[32];
	struct oauth_token_info info;
	bool revoked;
};

struct par {
	struct node n;                 /* until: OAUTH_PAR_TTL after the push */
	uint8_t id_hash[32];
	char source[64];               /* the address that pushed it */
	struct oauth_request req;
};

/* One of the lists: its entries, how many, and how many at most. */
struct list {
	struct node *head;
	size_t n, max;
};

struct oauth_state {
	pthread_mutex_t mu;
	struct list pages, codes, tokens, pars;
};

static void
page_free(struct node *n)
{
	struct page *p = (struct page *)n;

	secmem_free(p->token);
	OPENSSL_cleanse(p, sizeof(*p));
	free(p);
}

static void
code_free(struct node *n)
{
	struct code *c = (struct code *)n;

	secmem_free(c->sad);
	OPENSSL_cleanse(c, sizeof(*c));
	free(c);
}

static void
token_free(struct node *n)
{
	OPENSSL_cleanse(n, sizeof(struct token));
	free(n);
}

static void
par_free(struct node *n)
{
	OPENSSL_cleanse(n, sizeof(struct par));
	free(n);
}

/* Prepends n (the caller saw room). */
static void
list_push(struct list *l, struct node *n)
{
	n->next = l->head;
	l->head = n;
	l->n++;
}

/* Unlinks the entry *pp points to and frees it. */
static void
list_drop(struct list *l, struct node **pp)
{
	struct node *n = *pp;

	*pp = n->next;
	l->n--;
	n->free(n);
}

/* Drops the entries whose time has come (all of them: now INT64_MAX). */
static void
list_sweep(struct list *l, int64_t now)
{
	struct node **pp = &l->head;

	while (*pp != NULL) {
		if ((*pp)->until <= now)
			list_drop(l, pp);
		else
			pp = &(*pp)->next;
	}
}

int
oauth_state_new(struct oauth_state **out)
{
	struct oauth_state *s;

	*out = NULL;
	if ((s = calloc(1, sizeof(*s))) == NULL)
		return INK_ERR_ALLOC;
	if (pthread_mutex_init(&s->mu, NULL) != 0) {
		free(s);
		return INK_ERR_ALLOC;
	}
	s->pages.max = PAGES_MAX;
	s->codes.max = CODES_MAX;
	s->tokens.max = TOKENS_MAX;
	s->pars.max = PARS_MAX;
	*out = s;
	return 0;
}

void
oauth_state_free(struct oauth_state *s)
{
	if (s == NULL)
		return;
	list_sweep(&s->pars, INT64_MAX);
	list_sweep(&s->pages, INT64_MAX);
	list_sweep(&s->codes, INT64_MAX);
	list_sweep(&s->tokens, INT64_MAX);
	pthread_mutex_destroy(&s->mu);
	free(s);
}

/* Drops what has expired. Called holding mu. */
static void
sweep(struct oauth_state *s)
{
	int64_t now = ink_now();

	list_sweep(&s->pars, now);
	list_sweep(&s->pages, now);
	list_sweep(&s->codes, now);
	list_sweep(&s->tokens, now);
}

static struct page *
page_find(struct oauth_state *s, const char *cookie)
{
	uint8_t h[32];
	struct node *n;

	if (cookie == NULL || auth_token_hash(cookie, h) != 0)
		return NULL;
	for (n = s->pages.head; n != NULL; n = n->next)
		if (CRYPTO_memcmp(((struct page *)n)->id_hash, h, 32) == 0)
			return (struct page *)n;
	return NULL;
}

/* The page sessions nobody logged in through that source opened. Holding mu. */
static size_t
anonymous_from(struct oauth_state *s, const char *source)
{
	struct node *n;
	size_t k = 0;

	for (n = s->pages.head; n != NULL; n = n->next)
		if (((struct page *)n)->token == NULL && strcmp(((struct page *)n)->source, source) == 0)
			k++;
	return k;
}

/* Full: the page session closest to its end that nobody logged in through (of source, when not
 * NULL) makes room (a flood of opened pages pushes out only other unused ones, never a signer's
 * login). Holding mu. */
static bool
evict_anonymous(struct oauth_state *s, const char *source)
{
	struct node **pp, **victim = NULL;
	struct page *p;

	for (pp = &s->pages.head; *pp != NULL; pp = &(*pp)->next) {
		p = (struct page *)*pp;
		if (p->token == NULL && (source == NULL || strcmp(p->source, source) == 0) &&
		    (victim == NULL || (*pp)->until <= (*victim)->until))
			victim = pp;
	}
	if (victim == NULL)
		return false;
	list_drop(&s->pages, victim);
	return true;
}

int
oauth_page_open(struct oauth_state *s, const char *cookie, const char *source,
                const struct oauth_request *req,
                char cookie_out[static OAUTH_TOKEN_CHARS + 1],
                char csrf[static OAUTH_TOKEN_CHARS + 1], bool *fresh, bool *logged_in)
{
	struct page *p;
	int r = 0;

	cookie_out[0] = csrf[0] = '\0';
	*fresh = *logged_in = false;
	pthread_mutex_lock(&s->mu);
	sweep(s);
	if ((p = page_find(s, cookie)) == NULL) {
		if (source == NULL)
			source = "";
		if (anonymous_from(s, source) >= PAGES_PER_SOURCE)
			(void)evict_anonymous(s, source);
		else if (s->pages.n >= s->pages.max && !evict_anonymous(s, NULL)) {
			r = INK_ERR_BUSY;
			goto out;
		}
		if ((p = calloc(1, sizeof(*p))) == NULL) {
			r = INK_ERR_ALLOC;
			goto out;
		}
		p->n.free = page_free;
		if ((r = auth_token_new(cookie_out, p->id_hash)) != 0 ||
		    (r = oauth_random_token(p->csrf)) != 0) {
			page_free(&p->n);
			goto out;
		}
		snprintf(p->source, sizeof(p->source), "%s", source);
		list_push(&s->pages, &p->n);
		*fresh = true;
	} else if ((r = oauth_random_token(p->csrf)) != 0) {
		/* Another request replaces the pending one: a form of a page showing the old one
		 * (its hashes, its client) must not answer the new one. */
		goto out;
	}
	p->n.until = ink_now() + OAUTH_PAGE_TTL;
	memcpy(&p->req, req, sizeof(*req));
	p->has_req = true;
	memcpy(csrf, p->csrf, OAUTH_TOKEN_CHARS + 1);
	*logged_in = p->token != NULL;
out:
	pthread_mutex_unlock(&s->mu);
	return r;
}

int
oauth_page_post(struct oauth_state *s, const char *cookie, const char *csrf,
                struct oauth_request *req, bool *has_req, char **token,
                char csrf_out[static OAUTH_TOKEN_CHARS + 1])
{
	struct page *p;
	int r = 0;

	*has_req = false;
	*token = NULL;
	csrf_out[0] = '\0';
	pthread_mutex_lock(&s->mu);
	sweep(s);
	if ((p = page_find(s, cookie)) == NULL) {
		r = INK_ERR_AUTH;
		goto out;
	}
	if (csrf == NULL || strlen(csrf) != OAUTH_TOKEN_CHARS ||
	    CRYPTO_memcmp(csrf, p->csrf, OAUTH_TOKEN_CHARS) != 0) {
		r = INK_ERR_DENIED;
		goto out;
	}
	if (p->token != NULL && (*token = secmem_strdup(p->token)) == NULL) {
		r = INK_ERR_ALLOC;
		goto out;
	}
	if (p->has_req)
		memcpy(req, &p->req, sizeof(*req));
	*has_req = p->has_req;
	p->n.until = ink_now() + OAUTH_PAGE_TTL;
	memcpy(csrf_out, p->csrf, OAUTH_TOKEN_CHARS + 1);
out:
	pthread_mutex_unlock(&s->mu);
	return r;
}

int
oauth_page_login(struct oauth_state *s, const char *cookie, const char *token,
                 char csrf[static OAUTH_TOKEN_CHARS + 1])
{
	struct page *p;
	char *copy;
	int r = 0;

	if ((copy = secmem_strdup(token)) == NULL)
		return INK_ERR_ALLOC;
	pthread_mutex_lock(&s->mu);
	if ((p = page_find(s, cookie)) == NULL) {
		r = INK_ERR_AUTH;
	} else {
		secmem_free(p->token);
		p->token = copy;
		copy = NULL;
		/* a new CSRF token once the signer is known: one seen before login is spent */
		if ((r = oauth_random_token(p->csrf)) == 0)
			memcpy(csrf, p->csrf, OAUTH_TOKEN_CHARS + 1);
	}
	pthread_mutex_unlock(&s->mu);
	secmem_free(copy);
	return r;
}

void
oauth_page_logout(struct oauth_state *s, const char *cookie)
{
	struct page *p;

	pthread_mutex_lock(&s->mu);
	if ((p = page_find(s, cookie)) != NULL) {
		secmem_free(p->token);
		p->token = NULL;
	}
	pthread_mutex_unlock(&s->mu);
}

void
oauth_page_done(struct oauth_state *s, const char *cookie)
{
	struct page *p;

	pthread_mutex_lock(&s->mu);
	if ((p = page_find(s, cookie)) != NULL) {
		OPENSSL_cleanse(&p->req, sizeof(p->req));
		p->has_req = false;
	}
	pthread_mutex_unlock(&s->mu);
}

int
oauth_code_issue(struct oauth_state *s, const struct oauth_request *req,
                 const struct auth_principal *who, const char *sad, int64_t sad_expires,
                 int64_t ttl, char code[static OAUTH_TOKEN_CHARS + 1])
{
	struct code *c = NULL;
	int r;

	code[0] = '\0';
	if ((c = calloc(1, sizeof(*c))) == NULL) {
		r = INK_ERR_ALLOC;
		goto out;
	}
	c->n.free = code_free;
	if ((c->sad = secmem_strdup(sad)) == NULL) {
		r = INK_ERR_ALLOC;
		goto out;
	}
	if ((r = auth_token_new(code, c->id_hash)) != 0)
		goto out;
	memcpy(c->client_id, req->client_id, sizeof(c->client_id));
	memcpy(c->redirect_uri, req->redirect_uri, sizeof(c->redirect_uri));
	memcpy(c->challenge, req->challenge, sizeof(c->challenge));
	c->info.who = *who;
	memcpy(c->info.client_id, req->client_id, sizeof(c->info.client_id));
	memcpy(c->info.cred, req->cred, sizeof(c->info.cred));
	c->info.expires = sad_expires;
	c->info.service = req->service;
	if (req->service)
		snprintf(c->info.family, sizeof(c->info.family), "%s", sad);
	c->expires = ink_now() + (ttl > 0 && ttl < OAUTH_CODE_TTL ? ttl : OAUTH_CODE_TTL);
	/* a redeemed code is remembered as long as its token may live */
	c->n.until = sad_expires > c->expires ? sad_expires : c->expires;
	pthread_mutex_lock(&s->mu);
	sweep(s);
	if (s->codes.n >= s->codes.max) {
		r = INK_ERR_BUSY;
	} else {
		list_push(&s->codes, &c->n);
		c = NULL;
	}
	pthread_mutex_unlock(&s->mu);
out:
	if (r != 0)
		OPENSSL_cleanse(code, OAUTH_TOKEN_CHARS + 1);
	if (c != NULL)
		code_free(&c->n);
	return r;
}

static struct token *
token_find(struct oauth_state *s, const uint8_t h[static 32])
{
	struct node *n;

	for (n = s->tokens.head; n != NULL; n = n->next)
		if (CRYPTO_memcmp(((struct token *)n)->id_hash, h, 32) == 0)
			return (struct token *)n;
	return NULL;
}

int
oauth_code_redeem(struct oauth_state *s, const char *code, const char *client_id,
                  const char *redirect_uri, const char *verifier,
                  char token[static OAUTH_TOKEN_CHARS + 1], struct oauth_token_info *info,
                  const char **why)
{
	uint8_t h[32];
	struct node *n;
	struct code *c;
	struct token *t = NULL;
	int r = 0;

	token[0] = '\0';
	memset(info, 0, sizeof(*info));
	*why = NULL;
	if (code == NULL || auth_token_hash(code, h) != 0) {
		*why = "malformed code";
		return INK_ERR_EXPIRED;
	}
	pthread_mutex_lock(&s->mu);
	sweep(s);
	for (n = s->codes.head; n != NULL; n = n->next)
		if (CRYPTO_memcmp(((struct code *)n)->id_hash, h, 32) == 0)
			break;
	if ((c = (struct code *)n) == NULL) {
		*why = "unknown or expired code";
		r = INK_ERR_EXPIRED;
		goto out;
	}
	*info = c->info;
	if (c->sad == NULL) {
		/* RFC 6749 4.1.2: a code used twice revokes what was issued from it */
		if (c->issued && (t = token_find(s, c->token_hash)) != NULL)
			t->revoked = true;
		*why = c->issued ? "code replayed: the token issued from it is revoked" :
		       "code spent by a failed attempt";
		t = NULL;
		r = INK_ERR_REPLAY;
		goto out;
	}
	if (c->expires <= ink_now()) {
		*why = "expired code";
		r = INK_ERR_EXPIRED;
	} else if (client_id == NULL || strcmp(client_id, c->client_id) != 0) {
		*why = "code issued to another client";
		r = INK_ERR_AUTH;
	} else if (redirect_uri == NULL || strcmp(redirect_uri, c->redirect_uri) != 0) {
		*why = "redirect_uri differs from the authorization request's";
		r = INK_ERR_AUTH;
	} else if (!oauth_pkce_verify(c->challenge, verifier)) {
		*why = "wrong PKCE code_verifier";
		r = INK_ERR_AUTH;
	} else if (c->info.service) {
		/* a service grant's tokens are the store's (made by the caller, in info.family) */
		c->issued = true;
	} else if (s->tokens.n >= s->tokens.max) {
		*why = "too many live tokens";
		r = INK_ERR_BUSY;
	} else if ((t = calloc(1, sizeof(*t))) == NULL) {
		r = INK_ERR_ALLOC;
	} else if ((r = auth_token_hash(c->sad, t->id_hash)) == 0) {
		memcpy(token, c->sad, OAUTH_TOKEN_CHARS + 1);
		t->info = c->info;
		memcpy(c->token_hash, t->id_hash, 32);
		c->issued = true;
		t->n.free = token_free;
		t->n.until = t->info.expires;
		list_push(&s->tokens, &t->n);
		t = NULL;
	}
	/* spent whatever the outcome: a code is tried once (a wrong verifier burns it) */
	secmem_free(c->sad);
	c->sad = NULL;
	if (r != 0)
		c->expires = 0;
	if (t != NULL)
		token_free(&t->n);
out:
	pthread_mutex_unlock(&s->mu);
	if (r != 0)
		OPENSSL_cleanse(token, OAUTH_TOKEN_CHARS + 1);
	return r;
}

int
oauth_token_find(struct oauth_state *s, const char *token, struct oauth_token_info *info)
{
	uint8_t h[32];
	struct token *t;
	int r = INK_ERR_AUTH;

	memset(info, 0, sizeof(*info));
	if (auth_token_hash(token, h) != 0)
		return INK_ERR_AUTH;
	pthread_mutex_lock(&s->mu);
	sweep(s);
	if ((t = token_find(s, h)) != NULL && !t->revoked) {
		*info = t->info;
		r = 0;
	}
	pthread_mutex_unlock(&s->mu);
	return r;
}

void
oauth_token_revoke(struct oauth_state *s, const char *token, const char *client_id, bool *found)
{
	uint8_t h[32];
	struct token *t;

	*found = false;
	if (auth_token_hash(token, h) != 0)
		return;
	pthread_mutex_lock(&s->mu);
	if ((t = token_find(s, h)) != NULL && strcmp(t->info.client_id, client_id) == 0) {
		t->revoked = true;
		*found = true;
	}
	pthread_mutex_unlock(&s->mu);
}

void
oauth_client_forget(struct oauth_state *s, const char *client_id)
{
	struct code *c;
	struct token *t;
	struct node *n;

	pthread_mutex_lock(&s->mu);
	for (n = s->codes.head; n != NULL; n = n->next) {
		c = (struct code *)n;
		if (strcmp(c->client_id, client_id) == 0) {
			secmem_free(c->sad);
			c->sad = NULL;
			c->expires = 0;
		}
	}
	for (n = s->tokens.head; n != NULL; n = n->next) {
		t = (struct token *)n;
		if (strcmp(t->info.client_id, client_id) == 0)
			t->revoked = true;
	}
	pthread_mutex_unlock(&s->mu);
}

int
oauth_par_push(struct oauth_state *s, const char *source, const struct oauth_request *req,
               char handle[static OAUTH_TOKEN_CHARS + 1])
{
	struct par *q;
	struct node *o;
	size_t from = 0;
	int r;

	handle[0] = '\0';
	if ((q = calloc(1, sizeof(*q))) == NULL)
		return INK_ERR_ALLOC;
	q->n.free = par_free;
	if ((r = auth_token_new(handle, q->id_hash)) != 0) {
		par_free(&q->n);
		return r;
	}
	memcpy(&q->req, req, sizeof(*req));
	snprintf(q->source, sizeof(q->source), "%s", source != NULL ? source : "");
	q->n.until = ink_now() + OAUTH_PAR_TTL;
	pthread_mutex_lock(&s->mu);
	sweep(s);
	for (o = s->pars.head; o != NULL; o = o->next)
		if (strcmp(((struct par *)o)->source, q->source) == 0)
			from++;
	if (s->pars.n >= s->pars.max || from >= PARS_PER_SOURCE) {
		r = INK_ERR_BUSY;
	} else {
		list_push(&s->pars, &q->n);
		q = NULL;
	}
	pthread_mutex_unlock(&s->mu);
	if (q != NULL) {
		par_free(&q->n);
		handle[0] = '\0';
	}
	return r;
}

int
oauth_par_take(struct oauth_state *s, const char *request_uri, const char *client_id,
               struct oauth_request *req)
{
	const size_t ul = sizeof(OAUTH_PAR_URN) - 1;
	struct node **pp;
	struct par *q;
	uint8_t h[32];
	int r = INK_ERR_EXPIRED;

	if (request_uri == NULL || client_id == NULL || strncmp(request_uri, OAUTH_PAR_URN, ul) != 0 ||
	    auth_token_hash(request_uri + ul, h) != 0)
		return INK_ERR_EXPIRED;
	pthread_mutex_lock(&s->mu);
	sweep(s);
	for (pp = &s->pars.head; *pp != NULL; pp = &(*pp)->next) {
		q = (struct par *)*pp;
		if (CRYPTO_memcmp(q->id_hash, h, 32) != 0)
			continue;
		/* single use, whoever presents it (RFC 9126 4) */
		if (strcmp(q->req.client_id, client_id) == 0) {
			memcpy(req, &q->req, sizeof(*req));
			r = 0;
		}
		list_drop(&s->pars, pp);
		break;
	}
	pthread_mutex_unlock(&s->mu);
	return r;
}
