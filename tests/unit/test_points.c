#include <math.h>

#include "points.h"
#include "unit.h"

int
main(void)
{
	char buf[POINTS_TEXT_MAX];
	int h;

	TEST("points_format writes at most two decimals and drops trailing zeros") {
		CHECK_STR(points_format(750, buf), "7.5");
		CHECK_STR(points_format(1000, buf), "10");
		CHECK_STR(points_format(333, buf), "3.33");
		CHECK_STR(points_format(5, buf), "0.05");
		CHECK_STR(points_format(50, buf), "0.5");
		CHECK_STR(points_format(0, buf), "0");
		CHECK_STR(points_format(-250, buf), "-2.5");
		CHECK_STR(points_format(POINTS_MAX, buf), "10000");
		CHECK_STR(points_format(-9223372036854775807LL - 1, buf), "-92233720368547758.08");
	}
	TEST("points_number gives the number JSON shows") {
		CHECK(points_number(750) == 7.5 && points_number(1000) == 10.0);
		CHECK(points_number(333) == 3.33 && points_number(29) == 0.29);
	}
	TEST("points_from_number takes two decimals exactly, without float error") {
		CHECK(points_from_number(7.5, POINTS_MAX, &h) == 0 && h == 750);
		CHECK(points_from_number(0.29, POINTS_MAX, &h) == 0 && h == 29);
		CHECK(points_from_number(0.07, POINTS_MAX, &h) == 0 && h == 7);
		CHECK(points_from_number(1.1 + 2.2, POINTS_MAX, &h) == 0 && h == 330);
		CHECK(points_from_number(10000, POINTS_MAX, &h) == 0 && h == POINTS_MAX);
		CHECK(points_from_number(0, POINTS_MAX, &h) == 0 && h == 0);
		/* Every hundredth up to 10000 points reads back as itself. */
		for (int i = 0, ok = 1; i <= POINTS_MAX; i++) {
			ok = ok && points_from_number(points_number(i), POINTS_MAX, &h) == 0 && h == i;
			if (i == POINTS_MAX)
				CHECK(ok);
		}
	}
	TEST("points_from_number refuses more decimals, below 0, over the maximum and non-numbers") {
		h = 42;
		CHECK(points_from_number(0.333, POINTS_MAX, &h) < 0);
		CHECK(points_from_number(0.005, POINTS_MAX, &h) < 0);
		CHECK(points_from_number(7.555, POINTS_MAX, &h) < 0);
		CHECK(points_from_number(-0.01, POINTS_MAX, &h) < 0);
		CHECK(points_from_number(10.01, 1000, &h) < 0);
		CHECK(points_from_number(1e300, POINTS_MAX, &h) < 0);
		CHECK(points_from_number(NAN, POINTS_MAX, &h) < 0);
		CHECK(points_from_number(INFINITY, POINTS_MAX, &h) < 0);
		CHECK(h == 42);
	}
	return unit_done("points");
}
