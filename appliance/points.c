#include "points.h"

#include <math.h>
#include <stdio.h>

char *
points_format(long long hundredths, char *buf)
{
	unsigned long long a = hundredths < 0 ? 0ULL - (unsigned long long)hundredths :
	    (unsigned long long)hundredths;
	unsigned long long whole = a / POINTS_SCALE, frac = a % POINTS_SCALE;
	const char *sign = hundredths < 0 ? "-" : "";

	if (frac == 0)
		snprintf(buf, POINTS_TEXT_MAX, "%s%llu", sign, whole);
	else if (frac % 10 == 0)
		snprintf(buf, POINTS_TEXT_MAX, "%s%llu.%llu", sign, whole, frac / 10);
	else
		snprintf(buf, POINTS_TEXT_MAX, "%s%llu.%02llu", sign, whole, frac);
	return buf;
}

double
points_number(long long hundredths)
{
	return (double)hundredths / POINTS_SCALE;
}

int
points_from_number(double points, long long max, int *out)
{
	double h, whole;

	/* The range first: casting a double beyond int is undefined behaviour. */
	if (!(points >= 0 && points <= (double)max / POINTS_SCALE + 0.005))
		return -1;
	h = points * POINTS_SCALE;
	whole = nearbyint(h);
	/* A number written with two decimals is within rounding error of a
	 * whole number of hundredths (0.29 * 100 is 28.999999999999996); one
	 * written with three or more (0.333, 0.005) is far from every one. */
	if (fabs(h - whole) > 1e-6 || whole > (double)max)
		return -1;
	*out = (int)whole;
	return 0;
}
