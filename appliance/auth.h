#ifndef MARKBOOK_AUTH_H
#define MARKBOOK_AUTH_H

#include <stddef.h>
#include <time.h>

/* Passwords (bcrypt through libxcrypt), session and CSRF tokens, and the
 * throttle that slows down password guessing. No database, no HTTP: the web
 * layer stores what these functions make. */

#define AUTH_BCRYPT_PREFIX	"$2b$"
#define AUTH_BCRYPT_COST	11		/* ~100 ms here; cost 12 is ~200 ms */
/* One-time passwords are random, and kept in clear for the login slips
 * anyway, so a slow hash protects nothing: ~3 ms lets a class of 200 import
 * in a second. The student's own password gets AUTH_BCRYPT_COST. */
#define AUTH_ONE_TIME_COST	6
#define AUTH_HASH_MAX		128		/* room for a bcrypt hash (60) */
#define AUTH_PASSWORD_MAX	72		/* bcrypt reads no further */
#define AUTH_TOKEN_BYTES	32		/* 256-bit session and CSRF tokens */
#define AUTH_TOKEN_HEX		(2 * AUTH_TOKEN_BYTES)
#define AUTH_SESSION_S		(12 * 3600)	/* a school day */
#define AUTH_GENERATED_LEN	16		/* generated passwords */

/* Failed logins allowed per window before a login must wait. Counted per
 * username from one address first, so that a classmate who types a student's
 * username with wrong passwords is stopped on their own computer without
 * locking the student out; per username from all addresses together only
 * much later, which still bounds guessing one password from many computers. */
#define AUTH_THROTTLE_WINDOW_S	(15 * 60)
#define AUTH_THROTTLE_PAIR	5		/* one username from one address */
#define AUTH_THROTTLE_ADDR	20		/* one address, any usernames */
#define AUTH_THROTTLE_USER	50		/* one username, all addresses */
/* Where failures are counted. An entry is kept for its whole window: a full
 * table never forgets failures still counting, so no flood of failures from
 * many addresses can free a locked-out account. The accounts that exist have
 * a table of their own, which only they can fill: per-account counting (the
 * bound that matters) never runs out of room for a class, however full the
 * table of addresses and pairs is. */
#define AUTH_THROTTLE_SLOTS	4096		/* addresses, pairs, unknown usernames */
#define AUTH_THROTTLE_ACCOUNTS	4096		/* usernames that exist */

/* Hash `password` with bcrypt ($2b$, AUTH_BCRYPT_COST, random salt) into
 * `out` (at least AUTH_HASH_MAX bytes). Returns 0, or -1 when the password is
 * empty or longer than AUTH_PASSWORD_MAX, or libxcrypt failed. */
int auth_hash_password(const char *password, char *out, size_t outlen);

/* The same for a generated one-time password, at AUTH_ONE_TIME_COST. */
int auth_hash_one_time(const char *password, char *out, size_t outlen);

/* 1 when `password` matches `stored`, else 0. A stored hash that is not
 * bcrypt never matches (libxcrypt would read it as DES), nor does a password
 * longer than AUTH_PASSWORD_MAX. Takes a bcrypt's time whatever the password
 * and even when `stored` is NULL, so neither an unknown username nor a long
 * password can be told apart by timing (nor fail more cheaply). */
int auth_check_password(const char *password, const char *stored);

/* Fill `out` with 2*`nbytes` lowercase hex digits from getrandom() and a NUL.
 * Returns 0 or -1. */
int auth_random_hex(char *out, size_t nbytes);

/* A password of AUTH_GENERATED_LEN characters that are easy to read out
 * (no 0/O, 1/l/I). `out` has room for AUTH_GENERATED_LEN + 1. Returns 0 or -1. */
int auth_new_password(char out[AUTH_GENERATED_LEN + 1]);

/* The hex SHA-256 of a session token: what the database keeps. */
void auth_token_hash(const char *token, char out[AUTH_TOKEN_HEX + 1]);

/* 1 when the strings are equal, comparing in time that depends only on
 * their lengths; 0 otherwise or when either is NULL. */
int auth_equal(const char *a, const char *b);

/* Seconds a login for `username` from `addr` must wait (0: go ahead).
 * `known` says whether the account exists. When the table of accounts is
 * full of failures still counting (more than AUTH_THROTTLE_ACCOUNTS accounts
 * attacked at once), an account with no entry there must wait too, until one
 * frees: its failures could not be counted, so it is not tried at all. */
int auth_throttle_wait(const char *username, const char *addr, int known, time_t now);

/* Count a failed login against `username` (`known`: the account exists) and
 * `addr`. When the table of addresses and pairs is full of failures still
 * counting, this one is counted against the account alone. */
void auth_throttle_fail(const char *username, const char *addr, int known, time_t now);

/* Forget the failures of `username` (from every address, and from `addr`)
 * after a good login from `addr`. */
void auth_throttle_clear(const char *username, const char *addr);

/* Forget every failure of `username`, from every address: the teacher gave
 * the student a new password, so the wait the 429 tells them of ends now. */
void auth_throttle_forget(const char *username);

#endif
