#include <stdlib.h>
#include <string.h>

#include "csv.h"
#include "unit.h"

int
main(void)
{
	struct csv c;
	char err[256];

	TEST("csv_field quotes commas, quotes and line breaks, and rows end in CRLF") {
		memset(&c, 0, sizeof c);
		csv_field(&c, "ada");
		csv_field(&c, "Lovelace, Ada");
		csv_field(&c, "say \"hi\"");
		csv_field(&c, "two\nlines");
		csv_end_row(&c);
		csv_number(&c, 10);
		csv_field(&c, "");
		csv_end_row(&c);
		CHECK_STR(c.buf, "ada,\"Lovelace, Ada\",\"say \"\"hi\"\"\",\"two\nlines\"\r\n10,\r\n");
		CHECK(!c.failed);
		csv_free(&c);
	}
	TEST("csv_points writes hundredths as points with at most two decimals") {
		memset(&c, 0, sizeof c);
		csv_points(&c, 750);
		csv_points(&c, 1000);
		csv_points(&c, 333);
		csv_points(&c, 5);
		csv_points(&c, 0);
		csv_end_row(&c);
		CHECK_STR(c.buf, "7.5,10,3.33,0.05,0\r\n");
		csv_free(&c);
	}
	TEST("csv_field keeps a spreadsheet from reading a name as a formula") {
		memset(&c, 0, sizeof c);
		csv_field(&c, "=HYPERLINK(\"http://x\")");
		csv_field(&c, "+1");
		csv_field(&c, "@SUM(A1)");
		csv_field(&c, "-2");
		csv_end_row(&c);
		CHECK_STR(c.buf, "\"'=HYPERLINK(\"\"http://x\"\")\",'+1,'@SUM(A1),'-2\r\n");
		csv_free(&c);
	}
	TEST("csv_parse skips a byte order mark and reads semicolons when the header has them") {
		static const char in[] = "\xEF\xBB\xBFusername;name\r\nada;\"Lovelace; Ada\"\r\n";
		struct csv_table t;

		CHECK(csv_parse(in, sizeof in - 1, &t, err, sizeof err) == 0);
		CHECK(t.separator == ';');
		CHECK(t.n == 2);
		if (t.n == 2) {
			CHECK_STR(t.rows[0].fields[0], "username");
			CHECK_STR(t.rows[1].fields[1], "Lovelace; Ada");
			CHECK(t.rows[1].line == 2);
		}
		csv_table_free(&t);
	}
	TEST("csv_parse keeps line breaks and doubled quotes inside quotes and counts lines") {
		static const char in[] = "a,b\n\"x\ny\",\"say \"\"hi\"\"\"\n\n,,\nlast,\n";
		struct csv_table t;

		CHECK(csv_parse(in, sizeof in - 1, &t, err, sizeof err) == 0);
		CHECK(t.separator == ',');
		CHECK(t.n == 3);	/* the blank and the empty rows are left out */
		if (t.n == 3) {
			CHECK_STR(t.rows[1].fields[0], "x\ny");
			CHECK_STR(t.rows[1].fields[1], "say \"hi\"");
			CHECK(t.rows[2].line == 6);
			CHECK(t.rows[2].n == 2);
			CHECK_STR(t.rows[2].fields[1], "");
		}
		csv_table_free(&t);
	}
	TEST("csv_parse names the line of a quote that is never closed") {
		static const char in[] = "a,b\nok,1\n\"open,2\nmore,3\n";
		struct csv_table t;

		CHECK(csv_parse(in, sizeof in - 1, &t, err, sizeof err) < 0);
		CHECK(strstr(err, "line 3:") != NULL);
		CHECK(strstr(err, "never closed") != NULL);
		csv_table_free(&t);
	}
	TEST("csv_parse refuses text after a closing quote") {
		static const char in[] = "a,b\n\"x\"y,1\n";
		struct csv_table t;

		CHECK(csv_parse(in, sizeof in - 1, &t, err, sizeof err) < 0);
		CHECK(strstr(err, "line 2:") != NULL);
		csv_table_free(&t);
	}
	TEST("csv_parse reads a file without a final line break, in CR-only lines") {
		static const char in[] = "a\rb\rc";
		struct csv_table t;

		CHECK(csv_parse(in, sizeof in - 1, &t, err, sizeof err) == 0);
		CHECK(t.n == 3);
		if (t.n == 3)
			CHECK_STR(t.rows[2].fields[0], "c");
		csv_table_free(&t);
	}
	TEST("csv_format_parse knows the four export formats and nothing else") {
		enum csv_format f;

		CHECK(csv_format_parse("wide", &f) == 0 && f == CSV_WIDE);
		CHECK(csv_format_parse("long", &f) == 0 && f == CSV_LONG);
		CHECK(csv_format_parse("canvas", &f) == 0 && f == CSV_CANVAS);
		CHECK(csv_format_parse("moodle", &f) == 0 && f == CSV_MOODLE);
		CHECK(csv_format_parse("Canvas", &f) < 0);
		CHECK(csv_format_parse("", &f) < 0);
	}
	return unit_done("csv");
}
