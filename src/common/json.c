/* json: request bodies parsed by one function from a declarative field table. */
#include "common/common.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static char *
field_strdup(const char *s, size_t n, bool secret)
{
	char *p = secret ? secmem_alloc(n + 1) : malloc(n + 1);

	if (p != NULL) {
		memcpy(p, s, n);
		p[n] = '\0';
	}
	return p;
}

/* A string value within max_len with no NUL inside; *n its length. */
static int
check_string(json_t *v, const char *name, size_t max_len, size_t *n, char *err, size_t errsz)
{
	if (!json_is_string(v)) {
		snprintf(err, errsz, "Invalid parameter %s: must be a string", name);
		return INK_ERR_INVALID;
	}
	*n = json_string_length(v);
	if (*n > max_len || memchr(json_string_value(v), '\0', *n) != NULL) {
		snprintf(err, errsz, "Invalid parameter %s: too long or contains NUL", name);
		return INK_ERR_INVALID;
	}
	return 0;
}

static int
parse_string(json_t *v, const struct json_field *f, char **dst, char *err, size_t errsz)
{
	size_t n;
	int r;

	if ((r = check_string(v, f->name, f->max_len, &n, err, errsz)) != 0)
		return r;
	if ((*dst = field_strdup(json_string_value(v), n, f->flags & JF_SECRET)) == NULL)
		return INK_ERR_ALLOC;
	return 0;
}

/* An array of strings in one block: the pointers, then the strings (a request's 100 hashes
 * cost one allocation, not 100); freed by json_free_spec as one. */
static int
parse_strings(json_t *v, const struct json_field *f, struct json_strings *arr, char *err,
              size_t errsz)
{
	size_t i, n, cnt = json_array_size(v), total;
	char *p;
	int r;

	if (!json_is_array(v) || cnt > f->max_len) {
		snprintf(err, errsz, "Invalid parameter %s: must be an array of at most %zu strings",
		         f->name, f->max_len);
		return INK_ERR_INVALID;
	}
	if (cnt == 0)
		return 0;
	total = cnt * sizeof(char *);
	for (i = 0; i < cnt; i++) {
		if ((r = check_string(json_array_get(v, i), f->name, (size_t)f->max, &n, err,
		                      errsz)) != 0)
			return r;
		total += n + 1;
	}
	arr->v = f->flags & JF_SECRET ? secmem_alloc(total) : malloc(total);
	if (arr->v == NULL)
		return INK_ERR_ALLOC;
	p = (char *)(arr->v + cnt);
	for (i = 0; i < cnt; i++) {
		n = json_string_length(json_array_get(v, i));
		memcpy(p, json_string_value(json_array_get(v, i)), n);
		p[n] = '\0';
		arr->v[i] = p;
		p += n + 1;
	}
	arr->n = cnt;
	return 0;
}

static int
parse_field(json_t *v, const struct json_field *f, void *out, char *err, size_t errsz)
{
	uint8_t *base = out;

	switch (f->type) {
	case JF_STRING:
		return parse_string(v, f, (char **)(base + f->offset), err, errsz);
	case JF_BOOL:
		if (!json_is_boolean(v)) {
			snprintf(err, errsz, "Invalid parameter %s: must be a boolean", f->name);
			return INK_ERR_INVALID;
		}
		*(bool *)(base + f->offset) = json_is_true(v);
		return 0;
	case JF_INT:
		if (!json_is_integer(v) || json_integer_value(v) < f->min ||
		    json_integer_value(v) > f->max) {
			snprintf(err, errsz, "Invalid parameter %s: must be an integer in [%lld, %lld]",
			         f->name, (long long)f->min, (long long)f->max);
			return INK_ERR_INVALID;
		}
		*(int64_t *)(base + f->offset) = json_integer_value(v);
		return 0;
	case JF_STRINGS:
		return parse_strings(v, f, (struct json_strings *)(base + f->offset), err, errsz);
	case JF_END:
		break;
	}
	return INK_ERR_INTERNAL;
}

int
json_parse_spec(const char *body, size_t len, const struct json_field *spec, void *out,
                char *err, size_t errsz)
{
	json_error_t jerr;
	json_t *root = NULL, *v;
	const struct json_field *f;
	int r = INK_ERR_INVALID;

	snprintf(err, errsz, "Invalid request");
	if (len == 0) {
		root = json_object();
	} else {
		root = json_loadb(body, len, JSON_REJECT_DUPLICATES, &jerr);
		if (root == NULL) {
			snprintf(err, errsz, "Malformed JSON body");
			goto out;
		}
	}
	if (root == NULL) {
		r = INK_ERR_ALLOC;
		goto out;
	}
	if (!json_is_object(root)) {
		snprintf(err, errsz, "The request body must be a JSON object");
		goto out;
	}
	for (f = spec; f->type != JF_END; f++) {
		v = json_object_get(root, f->name);
		if (v == NULL || json_is_null(v)) {
			if (f->flags & JF_REQUIRED) {
				snprintf(err, errsz, "Missing (or invalid type) parameter %s", f->name);
				goto out;
			}
			continue;
		}
		if ((r = parse_field(v, f, out, err, errsz)) != 0)
			goto out;
		r = INK_ERR_INVALID;
	}
	r = 0;
	err[0] = '\0';
out:
	json_decref(root);
	if (r != 0)
		json_free_spec(spec, out);
	return r;
}

void
json_free_spec(const struct json_field *spec, void *out)
{
	const struct json_field *f;
	uint8_t *base = out;
	struct json_strings *arr;
	char **s;

	for (f = spec; f->type != JF_END; f++) {
		switch (f->type) {
		case JF_STRING:
			s = (char **)(base + f->offset);
			if (f->flags & JF_SECRET)
				secmem_free(*s);
			else
				free(*s);
			*s = NULL;
			break;
		case JF_STRINGS:
			arr = (struct json_strings *)(base + f->offset);
			if (f->flags & JF_SECRET)
				secmem_free(arr->v);
			else
				free(arr->v);
			arr->v = NULL;
			arr->n = 0;
			break;
		default:
			break;
		}
	}
}

void
json_text_free(char *text)
{
	json_malloc_t jm;
	json_free_t jf;

	if (text == NULL)
		return;
	explicit_bzero(text, strlen(text));
	json_get_alloc_funcs(&jm, &jf);
	jf(text);
}
