/* A tiny test helper: CHECK records a failure and goes on; each test binary
 * ends with the line "N passed, N failed" and exits non-zero on failure. */
#ifndef MARKBOOK_UNIT_H
#define MARKBOOK_UNIT_H

#include <stdio.h>
#include <string.h>

static int unit_passed, unit_failed, unit_case_failed;
static const char *unit_case;

#define TEST(name) for (unit_case = (name), unit_case_failed = 0; unit_case; \
	unit_case_failed ? unit_failed++ : unit_passed++, unit_case = NULL)

#define CHECK(cond) do {						\
	if (!(cond)) {							\
		fprintf(stderr, "FAIL %s\n  %s:%d: %s\n", unit_case,	\
		    __FILE__, __LINE__, #cond);				\
		unit_case_failed = 1;					\
	}								\
} while (0)

#define CHECK_STR(a, b) do {						\
	const char *a_ = (a), *b_ = (b);				\
	if (a_ == NULL || b_ == NULL || strcmp(a_, b_) != 0) {		\
		fprintf(stderr, "FAIL %s\n  %s:%d: \"%s\" != \"%s\"\n",	\
		    unit_case, __FILE__, __LINE__, a_ ? a_ : "(null)",	\
		    b_ ? b_ : "(null)");				\
		unit_case_failed = 1;					\
	}								\
} while (0)

static inline int
unit_done(const char *module)
{
	printf("%s: %d passed, %d failed\n", module, unit_passed, unit_failed);
	return unit_failed ? 1 : 0;
}

#endif
