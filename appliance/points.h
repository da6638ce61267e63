#ifndef MARKBOOK_POINTS_H
#define MARKBOOK_POINTS_H

/* Points and scores are kept exactly, as whole hundredths of a point: 7.5
 * points is 750, everywhere in C and in the database. This is the one place
 * that turns them into what people read (at most two decimals, trailing
 * zeros dropped: "7.5", "10", "3.33") and reads what people write. */

#define POINTS_SCALE	100			/* hundredths in a point */
#define POINTS_MAX	(10000 * POINTS_SCALE)	/* an exercise's max_points */
#define POINTS_TEXT_MAX	24			/* points_format()'s buffer */

/* `hundredths` as text with at most two decimals and no trailing zeros, in
 * `buf` (POINTS_TEXT_MAX bytes). Returns `buf`. */
char *points_format(long long hundredths, char *buf);

/* `hundredths` as a JSON number in points (7.5): cJSON prints a double with
 * the fewest digits that read back as it, so 750 prints as 7.5 and 1000 as
 * 10. */
double points_number(long long hundredths);

/* A number of points someone wrote (a JSON number, a points marker) as
 * hundredths in `*out`. Returns 0, or -1 when it is not a number from 0 to
 * `max` hundredths with at most two decimals (0.333 is refused, not rounded:
 * a score must be what the teacher wrote). */
int points_from_number(double points, long long max, int *out);

#endif
