#include "wire.h"

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void
wire_put(struct wire_buf *b, const void *p, size_t n)
{
	if (b->failed)
		return;
	if (b->len + n + 1 > b->cap) {
		size_t cap = b->cap ? b->cap : 4096;
		char *grown;

		while (cap < b->len + n + 1)
			cap *= 2;
		if ((grown = realloc(b->data, cap)) == NULL) {
			free(b->data);
			memset(b, 0, sizeof *b);
			b->failed = 1;
			return;
		}
		b->data = grown;
		b->cap = cap;
	}
	memcpy(b->data + b->len, p, n);
	b->len += n;
	b->data[b->len] = '\0';
}

/* One field: `NAME LENGTH\n`, the bytes, `\n`. */
void
wire_put_field(struct wire_buf *b, const char *name, const void *val, size_t n)
{
	char head[WIRE_NAME_MAX + WIRE_DIGITS_MAX + 4];
	int h = snprintf(head, sizeof head, "%s %zu\n", name, n);

	wire_put(b, head, (size_t)h);
	wire_put(b, val, n);
	wire_put(b, "\n", 1);
}

void
wire_put_int(struct wire_buf *b, const char *name, long long v)
{
	char text[WIRE_DIGITS_MAX + 2];

	wire_put_field(b, name, text, (size_t)snprintf(text, sizeof text, "%lld", v));
}

void
wire_put_text(struct wire_buf *b, const char *name, const char *s)
{
	wire_put_field(b, name, s ? s : "", s ? strlen(s) : 0);
}

int
wire_fail(struct wire_reader *r, const char *name, const char *what)
{
	if (!r->failed)
		snprintf(r->err, r->errlen, "field \"%s\" %s", name, what);
	r->failed = 1;
	return -1;
}

/* Digits only, no leading zero, at most WIRE_DIGITS_MAX - 1 of them. */
static int
parse_count(const char *p, size_t n, unsigned long long *out)
{
	unsigned long long v = 0;

	if (n == 0 || n >= WIRE_DIGITS_MAX || (n > 1 && p[0] == '0'))
		return -1;
	for (size_t i = 0; i < n; i++) {
		if (p[i] < '0' || p[i] > '9')
			return -1;
		v = v * 10 + (unsigned long long)(p[i] - '0');
	}
	*out = v;
	return 0;
}

/* The next field, which must be `name` with at most `max` bytes. */
int
wire_get_field(struct wire_reader *r, const char *name, size_t max, const char **val, size_t *vlen)
{
	size_t nlen = strlen(name), avail;
	unsigned long long n;
	const char *p = r->p, *nl;

	if (r->failed)
		return -1;
	avail = (size_t)(r->end - p);
	if (avail < nlen + 2 || memcmp(p, name, nlen) != 0 || p[nlen] != ' ')
		return wire_fail(r, name, avail == 0 ? "is missing (the data ends early)" :
		    "is missing or out of place");
	p += nlen + 1;
	if ((nl = memchr(p, '\n', (size_t)(r->end - p))) == NULL ||
	    parse_count(p, (size_t)(nl - p), &n) < 0)
		return wire_fail(r, name, "has a malformed length");
	p = nl + 1;
	if (n > max)
		return wire_fail(r, name, "is too long");
	if ((size_t)(r->end - p) < n + 1 || p[n] != '\n')
		return wire_fail(r, name, "is cut short");
	*val = p;
	*vlen = (size_t)n;
	r->p = p + n + 1;
	return 0;
}

int
wire_get_int(struct wire_reader *r, const char *name, long long lo, long long hi, long long *out)
{
	unsigned long long mag;
	const char *v;
	size_t n;
	int neg;

	if (wire_get_field(r, name, WIRE_DIGITS_MAX, &v, &n) < 0)
		return -1;
	neg = n > 0 && v[0] == '-';
	if (parse_count(v + neg, n - (size_t)neg, &mag) < 0 || (neg && mag == 0) ||
	    mag > (unsigned long long)LLONG_MAX)
		return wire_fail(r, name, "is not a whole number");
	*out = neg ? -(long long)mag : (long long)mag;
	if (*out < lo || *out > hi)
		return wire_fail(r, name, "is out of range");
	return 0;
}

/* A text without NUL bytes, copied (owned by the caller). */
int
wire_get_text(struct wire_reader *r, const char *name, size_t max, char **out)
{
	const char *v;
	size_t n;

	*out = NULL;
	if (wire_get_field(r, name, max, &v, &n) < 0)
		return -1;
	if (memchr(v, '\0', n) != NULL)
		return wire_fail(r, name, "holds a NUL byte");
	/* Not strndup(): the buffer need not hold a NUL after the field. */
	if ((*out = malloc(n + 1)) == NULL)
		return wire_fail(r, name, "does not fit in memory");
	memcpy(*out, v, n);
	(*out)[n] = '\0';
	return 0;
}

/* An integer member of any size and signedness. */
union wire_int {
	int8_t i8;
	uint8_t u8;
	int16_t i16;
	uint16_t u16;
	int32_t i32;
	uint32_t u32;
	int64_t i64;
	uint64_t u64;
};

static long long
load_int(const void *base, const struct wire_field *f)
{
	union wire_int v;

	memcpy(&v, (const char *)base + f->off, f->size);
	switch (f->size) {
	case 1:
		return f->is_signed ? (long long)v.i8 : (long long)v.u8;
	case 2:
		return f->is_signed ? (long long)v.i16 : (long long)v.u16;
	case 4:
		return f->is_signed ? (long long)v.i32 : (long long)v.u32;
	default:
		return f->is_signed ? (long long)v.i64 : v.u64 > LLONG_MAX ? LLONG_MAX :
		    (long long)v.u64;
	}
}

/* Store `x`, already within the field's bounds and so within its type. */
static void
store_int(void *base, const struct wire_field *f, long long x)
{
	union wire_int v;

	switch (f->size) {
	case 1:
		v.i8 = (int8_t)x;
		break;
	case 2:
		v.i16 = (int16_t)x;
		break;
	case 4:
		v.u32 = (uint32_t)x;
		break;
	default:
		v.i64 = x;
	}
	memcpy((char *)base + f->off, &v, f->size);
}

/* The member at `off` of the struct at `base`, as a `type`. */
#define AT(base, off, type)	((type *)(void *)((char *)(base) + (off)))

void
wire_put_struct(struct wire_buf *b, const struct wire_field *fields, size_t n, const void *obj)
{
	for (size_t i = 0; i < n; i++) {
		const struct wire_field *f = &fields[i];
		char text[64];

		switch (f->type) {
		case WIRE_INT:
			wire_put_int(b, f->name, load_int(obj, f));
			break;
		case WIRE_DOUBLE:
			wire_put_field(b, f->name, text, (size_t)snprintf(text, sizeof text, "%.17g",
			    *AT(obj, f->off, double)));
			break;
		case WIRE_TEXT:
			wire_put_text(b, f->name, *AT(obj, f->off, char *));
			break;
		case WIRE_NULLABLE: {
			const char *s = *AT(obj, f->off, char *);
			struct wire_buf v = { 0 };

			wire_put(&v, s ? "=" : "-", 1);
			if (s)
				wire_put(&v, s, strlen(s));
			if (v.failed)
				b->failed = 1;
			wire_put_field(b, f->name, v.data, v.len);
			free(v.data);
			break;
		}
		case WIRE_CHARS:
			wire_put_text(b, f->name, AT(obj, f->off, char));
			break;
		case WIRE_BYTES:
			wire_put_field(b, f->name, *AT(obj, f->off, char *), *AT(obj, f->len_off, size_t));
			break;
		case WIRE_LIST: {
			char **items = *AT(obj, f->off, char **);
			size_t count = *AT(obj, f->len_off, size_t);

			wire_put_int(b, f->name, (long long)count);
			for (size_t k = 0; k < count; k++)
				wire_put_text(b, "item", items[k]);
			break;
		}
		}
	}
}

/* Fill the members of `base` from the next fields. What was allocated stays
 * in `base` for its own free function, also after a failure. */
int
wire_get_struct(struct wire_reader *r, const struct wire_field *fields, size_t n, void *base)
{
	for (size_t i = 0; i < n; i++) {
		const struct wire_field *f = &fields[i];
		const char *v;
		size_t len;

		switch (f->type) {
		case WIRE_INT: {
			long long x;

			if (wire_get_int(r, f->name, f->lo, f->hi, &x) < 0)
				return -1;
			store_int(base, f, x);
			break;
		}
		case WIRE_DOUBLE: {
			char text[64], *end;
			double d;

			if (wire_get_field(r, f->name, sizeof text - 1, &v, &len) < 0)
				return -1;
			memcpy(text, v, len);
			text[len] = '\0';
			errno = 0;
			d = strtod(text, &end);
			if (len == 0 || *end || errno || !isfinite(d) || d < (double)f->lo ||
			    d > (double)f->hi)
				return wire_fail(r, f->name, "is not a number in range");
			*AT(base, f->off, double) = d;
			break;
		}
		case WIRE_TEXT:
			if (wire_get_text(r, f->name, f->max, AT(base, f->off, char *)) < 0)
				return -1;
			break;
		case WIRE_NULLABLE: {
			char *s, **out = AT(base, f->off, char *);

			if (wire_get_text(r, f->name, f->max + 1, &s) < 0)
				return -1;
			if (s[0] == '-' && s[1] == '\0') {
				free(s);
				*out = NULL;
			} else if (s[0] == '=') {
				memmove(s, s + 1, strlen(s));
				*out = s;
			} else {
				free(s);
				return wire_fail(r, f->name, "is malformed");
			}
			break;
		}
		case WIRE_CHARS:
			if (wire_get_field(r, f->name, f->max, &v, &len) < 0)
				return -1;
			if (memchr(v, '\0', len) != NULL)
				return wire_fail(r, f->name, "holds a NUL byte");
			memcpy(AT(base, f->off, char), v, len);
			AT(base, f->off, char)[len] = '\0';
			break;
		case WIRE_BYTES: {
			char *copy;

			if (wire_get_field(r, f->name, f->max, &v, &len) < 0)
				return -1;
			if ((copy = malloc(len + 1)) == NULL)
				return wire_fail(r, f->name, "does not fit in memory");
			memcpy(copy, v, len);
			copy[len] = '\0';
			*AT(base, f->off, char *) = copy;
			*AT(base, f->len_off, size_t) = len;
			break;
		}
		case WIRE_LIST: {
			size_t *count = AT(base, f->len_off, size_t);
			char ***items = AT(base, f->off, char **);
			long long want;

			if (wire_get_int(r, f->name, 0, f->hi, &want) < 0)
				return -1;
			if ((*items = calloc((size_t)want + 1, sizeof **items)) == NULL)
				return wire_fail(r, f->name, "does not fit in memory");
			for (*count = 0; *count < (size_t)want; (*count)++)
				if (wire_get_text(r, "item", f->max, &(*items)[*count]) < 0)
					return -1;
			break;
		}
		}
	}
	return 0;
}

void
wire_put_header(struct wire_buf *b, const char *kind)
{
	wire_put_int(b, kind, 1);
}

void
wire_put_end(struct wire_buf *b)
{
	wire_put_field(b, "end", "", 0);
}

int
wire_get_header(struct wire_reader *r, const char *kind)
{
	long long version;

	return wire_get_int(r, kind, 1, 1, &version);
}

int
wire_get_end(struct wire_reader *r)
{
	const char *v;
	size_t n;

	if (wire_get_field(r, "end", 0, &v, &n) < 0)
		return -1;
	if (r->p != r->end)
		return wire_fail(r, "end", "is followed by more data");
	return 0;
}

