#include <string.h>

#include "term.h"
#include "unit.h"

int
main(void)
{
	TEST("term_safe shows ESC sequences, CR, LF and tab as visible escapes") {
		CHECK_STR(term_safe("\x1b]0;owned\x07title\x1b[2J\rfake\n\tx"),
		    "\\x1b]0;owned\\x07title\\x1b[2J\\rfake\\n\\tx");
	}
	TEST("term_safe leaves plain text and UTF-8 letters as they are") {
		CHECK_STR(term_safe("Ada Lovelace: 10/10, déjà vu, 数学, \xf0\x9f\x98\x80"),
		    "Ada Lovelace: 10/10, déjà vu, 数学, \xf0\x9f\x98\x80");
		CHECK_STR(term_safe(""), "");
		CHECK_STR(term_safe(NULL), "");
	}
	TEST("term_safe escapes C1 controls, line separators and bidi marks") {
		/* U+009B is CSI in one code point; U+0085 is NEL. */
		CHECK_STR(term_safe("a\xc2\x9b" "2Jb\xc2\x85" "c"), "a\\u009b2Jb\\u0085c");
		CHECK_STR(term_safe("x\xe2\x80\xa8y\xe2\x80\xa9z"), "x\\u2028y\\u2029z");
		CHECK_STR(term_safe("\xe2\x80\xae" "txt.exe"), "\\u202etxt.exe");
		CHECK_STR(term_safe("a\xe2\x81\xa6" "b\xef\xbb\xbf"), "a\\u2066b\\ufeff");
	}
	TEST("term_safe shows bytes that are not UTF-8 as \\xNN, a lone 0x9b too") {
		CHECK_STR(term_safe("a\x9b" "2J\xff\xc3"), "a\\x9b2J\\xff\\xc3");
		CHECK_STR(term_safe("\xc0\xaf"), "\\xc0\\xaf");		/* overlong / */
		CHECK_STR(term_safe("\xed\xa0\x80"), "\\xed\\xa0\\x80");	/* a surrogate */
		CHECK_STR(term_safe("\x7f"), "\\x7f");
	}
	TEST("term_safe_n shows a NUL inside the text") {
		CHECK_STR(term_safe_n("a\0b", 3), "a\\x00b");
	}
	TEST("term_safe keeps TERM_RING results valid at once, as one printf needs") {
		const char *r[TERM_RING];
		char want[8];
		int ok = 1;

		for (int i = 0; i < TERM_RING; i++) {
			snprintf(want, sizeof want, "%d\r", i);
			r[i] = term_safe(want);
		}
		for (int i = 0; i < TERM_RING; i++) {
			snprintf(want, sizeof want, "%d\\r", i);
			ok &= strcmp(r[i], want) == 0;
		}
		CHECK(ok);
	}
	return unit_done("term");
}
