#include "term.h"

#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fsutil.h"

struct ring {
	char *slot[TERM_RING];
	unsigned next;
};

static pthread_key_t ring_key;
static pthread_once_t ring_once = PTHREAD_ONCE_INIT;
static int ring_ok;

static void
ring_free(void *p)
{
	struct ring *r = p;

	for (int i = 0; i < TERM_RING; i++)
		free(r->slot[i]);
	free(r);
}

static void
ring_init(void)
{
	ring_ok = pthread_key_create(&ring_key, ring_free) == 0;
}

/* Keep `s` in this thread's ring, freeing what it pushes out. Returns `s`,
 * or NULL (and frees `s`) when there is no ring. */
static char *
ring_keep(char *s)
{
	struct ring *r;

	pthread_once(&ring_once, ring_init);
	if (!ring_ok)
		goto fail;
	if ((r = pthread_getspecific(ring_key)) == NULL) {
		if ((r = calloc(1, sizeof *r)) == NULL)
			goto fail;
		if (pthread_setspecific(ring_key, r) != 0) {
			free(r);
			goto fail;
		}
	}
	free(r->slot[r->next]);
	r->slot[r->next] = s;
	r->next = (r->next + 1) % TERM_RING;
	return s;
fail:
	free(s);
	return NULL;
}

/* The code point of the UTF-8 sequence of `len` bytes at `p` (already
 * checked valid by fs_valid_utf8's rules). */
static unsigned long
code_point(const unsigned char *p, size_t len)
{
	static const unsigned char lead_mask[] = { 0, 0x7f, 0x1f, 0x0f, 0x07 };
	unsigned long cp = p[0] & lead_mask[len];

	for (size_t i = 1; i < len; i++)
		cp = cp << 6 | (p[i] & 0x3f);
	return cp;
}

/* Characters that move the cursor, end a line, or hide or reorder what a
 * terminal shows, beyond C0 and DEL. */
static int
hides(unsigned long cp)
{
	return (cp >= 0x80 && cp <= 0x9f) ||		/* C1: CSI, NEL, OSC... */
	    cp == 0x061c ||				/* Arabic letter mark */
	    (cp >= 0x200b && cp <= 0x200f) ||		/* zero-width, LRM, RLM */
	    (cp >= 0x2028 && cp <= 0x202e) ||		/* separators, embeddings */
	    (cp >= 0x2060 && cp <= 0x2069) ||		/* joiners, isolates */
	    cp == 0xfeff;
}

/* The length of the valid UTF-8 sequence at `p` (at most `left` bytes), or
 * 0 when it is not one: overlong forms, surrogates and values past U+10FFFF
 * are not. */
static size_t
utf8_len(const unsigned char *p, size_t left)
{
	size_t len = p[0] >= 0xf0 ? 4 : p[0] >= 0xe0 ? 3 : p[0] >= 0xc2 ? 2 : 0;
	size_t bad;

	if (p[0] >= 0xf5 || len == 0 || len > left)
		return 0;
	return fs_valid_utf8((const char *)p, len, &bad) ? len : 0;
}

const char *
term_safe_n(const char *s, size_t n)
{
	const unsigned char *p = (const unsigned char *)s;
	char *out, *o;

	/* The longest escape, \xNN, is four characters for one byte. */
	if (n > (SIZE_MAX - 1) / 4 || (out = malloc(4 * n + 1)) == NULL)
		return "(text not shown: out of memory)";
	o = out;
	for (size_t i = 0; i < n; ) {
		unsigned char c = p[i];
		size_t len;

		if (c == '\t' || c == '\r' || c == '\n') {
			*o++ = '\\';
			*o++ = c == '\t' ? 't' : c == '\r' ? 'r' : 'n';
			i++;
		} else if (c < 0x20 || c == 0x7f) {
			o += sprintf(o, "\\x%02x", c);
			i++;
		} else if (c < 0x80) {
			*o++ = (char)c;
			i++;
		} else if ((len = utf8_len(p + i, n - i)) == 0) {
			o += sprintf(o, "\\x%02x", c);
			i++;
		} else if (hides(code_point(p + i, len))) {
			/* \uNNNN: six characters for two or three bytes. */
			o += sprintf(o, "\\u%04lx", code_point(p + i, len));
			i += len;
		} else {
			memcpy(o, p + i, len);
			o += len;
			i += len;
		}
	}
	*o = '\0';
	if ((out = ring_keep(out)) == NULL)
		return "(text not shown: out of memory)";
	return out;
}

const char *
term_safe(const char *s)
{
	return s ? term_safe_n(s, strlen(s)) : "";
}
