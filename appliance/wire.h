#ifndef MARKBOOK_WIRE_H
#define MARKBOOK_WIRE_H

#include <stddef.h>

/* A strict, bounded format for passing C structs between two markbook
 * processes (worker.c's request and result). A message is a sequence of
 * fields, each `NAME LENGTH\n`, then LENGTH bytes, then `\n`. There is no
 * nesting and no escaping: a reader asks for exactly the field it expects
 * next, with the most bytes it takes, and refuses anything else (missing,
 * out of place, repeated, over-long, a number out of bounds, a NUL inside a
 * text). A struct is written and read by a table of its members
 * (WIRE_FIELD_*), integers by their member's size and signedness, so a
 * member whose type changes needs no change here. */

#define WIRE_NAME_MAX	32	/* a field's name */
#define WIRE_DIGITS_MAX	20	/* a length or an integer, as text */

/* A growing buffer. `data` is owned (free() it) and kept NUL-terminated;
 * once memory runs out `failed` is set and the buffer stays empty. */
struct wire_buf {
	char *data;
	size_t len, cap;
	int failed;
};

/* Append `n` bytes of `p`. */
void wire_put(struct wire_buf *b, const void *p, size_t n);

/* Append one field: its name, the `n` bytes of `val`. */
void wire_put_field(struct wire_buf *b, const char *name, const void *val, size_t n);
void wire_put_int(struct wire_buf *b, const char *name, long long v);
void wire_put_text(struct wire_buf *b, const char *name, const char *s);	/* NULL: "" */

/* Reads the fields of `p` up to `end` in the order the caller expects them.
 * The first problem is kept in `err` as "field "NAME" ..."; every later
 * call then fails too, so a caller may chain calls and look once. */
struct wire_reader {
	const char *p, *end;
	char *err;
	size_t errlen;
	int failed;
};

/* Fail the reader at field `name` with `what` ("is too long"). Returns -1. */
int wire_fail(struct wire_reader *r, const char *name, const char *what);

/* The next field, which must be `name` with at most `max` bytes: its bytes
 * (in the reader's buffer, not NUL-terminated) in `*val`, `*vlen`. Returns
 * 0 or -1. */
int wire_get_field(struct wire_reader *r, const char *name, size_t max, const char **val,
    size_t *vlen);

/* The next field as a whole number in [lo, hi]: digits, a leading "-" for
 * a negative one, no leading zero. Returns 0 or -1. */
int wire_get_int(struct wire_reader *r, const char *name, long long lo, long long hi,
    long long *out);

/* The next field as a text of at most `max` bytes without NUL, copied into
 * `*out` (owned by the caller; NULL after a failure). Returns 0 or -1. */
int wire_get_text(struct wire_reader *r, const char *name, size_t max, char **out);

/* A message begins with its kind and version 1 and ends with an empty
 * field `end` and nothing after it. */
void wire_put_header(struct wire_buf *b, const char *kind);
void wire_put_end(struct wire_buf *b);
int wire_get_header(struct wire_reader *r, const char *kind);
int wire_get_end(struct wire_reader *r);

enum wire_type {
	WIRE_INT,	/* a signed or unsigned integer or enum of any size */
	WIRE_DOUBLE,	/* finite, within bounds */
	WIRE_TEXT,	/* char *, never NULL once read ("" when it was NULL) */
	WIRE_NULLABLE,	/* char * that may be NULL: written "-" or "=" and the text */
	WIRE_CHARS,	/* char[N] */
	WIRE_BYTES,	/* char * and a size_t length member; may hold NUL */
	WIRE_LIST,	/* char ** and a size_t count member; texts */
};

/* One member of a struct, made with the WIRE_FIELD_* macros below. */
struct wire_field {
	const char *name;	/* the member's own name */
	enum wire_type type;
	size_t off, size;	/* of the member */
	int is_signed;		/* WIRE_INT */
	long long lo, hi;	/* WIRE_INT, WIRE_DOUBLE: bounds; WIRE_LIST: hi items */
	size_t max;		/* texts: bytes; WIRE_LIST: bytes of an item */
	size_t len_off;		/* WIRE_BYTES: the length; WIRE_LIST: the count */
};

#define WIRE_MEMBER(T, m)	(((T *)0)->m)
#define WIRE_FIELD_INT(T, m, lo, hi) { #m, WIRE_INT, offsetof(T, m), \
	sizeof WIRE_MEMBER(T, m), !((__typeof__(WIRE_MEMBER(T, m)))-1 > 0), lo, hi, 0, 0 }
#define WIRE_FIELD_DOUBLE(T, m, lo, hi) { #m, WIRE_DOUBLE, offsetof(T, m), \
	sizeof WIRE_MEMBER(T, m), 1, lo, hi, 0, 0 }
#define WIRE_FIELD_TEXT(T, m, max) { #m, WIRE_TEXT, offsetof(T, m), \
	sizeof WIRE_MEMBER(T, m), 0, 0, 0, max, 0 }
#define WIRE_FIELD_NULLABLE(T, m, max) { #m, WIRE_NULLABLE, offsetof(T, m), \
	sizeof WIRE_MEMBER(T, m), 0, 0, 0, max, 0 }
#define WIRE_FIELD_CHARS(T, m) { #m, WIRE_CHARS, offsetof(T, m), \
	sizeof WIRE_MEMBER(T, m), 0, 0, 0, sizeof WIRE_MEMBER(T, m) - 1, 0 }
#define WIRE_FIELD_BYTES(T, m, n, max) { #m, WIRE_BYTES, offsetof(T, m), \
	sizeof WIRE_MEMBER(T, m), 0, 0, 0, max, offsetof(T, n) }
#define WIRE_FIELD_LIST(T, m, n, items, max) { #m, WIRE_LIST, offsetof(T, m), \
	sizeof WIRE_MEMBER(T, m), 0, 0, items, max, offsetof(T, n) }

/* Write the `n` members `fields` of the struct at `obj`, in table order. */
void wire_put_struct(struct wire_buf *b, const struct wire_field *fields, size_t n,
    const void *obj);

/* Read the `n` members `fields` of the struct at `base` from the next
 * fields. What was allocated stays in `base` for its own free function,
 * also after a failure. Returns 0 or -1. */
int wire_get_struct(struct wire_reader *r, const struct wire_field *fields, size_t n,
    void *base);

#endif
