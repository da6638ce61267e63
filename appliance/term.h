#ifndef MARKBOOK_TERM_H
#define MARKBOOK_TERM_H

#include <stddef.h>

/* Text on its way to the teacher's terminal. A submission, a username, a
 * file name or a test message may hold escape sequences (set the window
 * title, clear the screen, move the cursor) or a carriage return that draws
 * a fake line over a real one; every terminal printer passes such text
 * through term_safe(), which shows those characters as visible escapes
 * instead. JSON and HTML output have their own escaping and do not use it. */

#define TERM_RING	8	/* term_safe() results one thread may hold at once */

/* `s` with every character a terminal acts on, or that hides or reorders
 * text, made visible: tab, CR and LF as \t \r \n, other C0 controls and DEL
 * as \xNN (ESC is \x1b), C1 controls, line and paragraph separators,
 * zero-width and bidirectional marks as \uNNNN, and bytes that are not UTF-8
 * as \xNN. Returns a string owned by the calling thread, valid until its
 * TERM_RING-th next call (so up to TERM_RING in one printf); never NULL (a
 * placeholder when out of memory). term_safe(NULL) is "". */
const char *term_safe(const char *s);

/* The same for the `n` bytes at `s` (which may hold NUL). */
const char *term_safe_n(const char *s, size_t n);

#endif
