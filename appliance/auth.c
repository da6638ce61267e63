#include "auth.h"

#include <crypt.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

#include "sha256.h"

/* A bcrypt hash of a password nobody knows, checked when the username does
 * not exist so that the reply takes as long as for a real user. */
static const char dummy_hash[] =
    "$2b$11$VJ0eBv.cscTUvvfRa6Gy.elfMz5wnhewnZw8N5wflc5cBt7IWfLs.";

/* "p:" and a username (64) "@" an address (IPv6: 45) fit with room. */
#define THROTTLE_KEY	128

struct throttle_slot {
	char key[THROTTLE_KEY];	/* "u:" username, "a:" address, "p:" username@address */
	time_t since;		/* start of the window */
	int failures;
};

struct throttle_table {
	struct throttle_slot *slots;
	size_t n;
};

static struct throttle_slot general_slots[AUTH_THROTTLE_SLOTS];
static struct throttle_slot account_slots[AUTH_THROTTLE_ACCOUNTS];
static struct throttle_table general = { general_slots, AUTH_THROTTLE_SLOTS };
static struct throttle_table accounts = { account_slots, AUTH_THROTTLE_ACCOUNTS };
static pthread_mutex_t throttle_lock = PTHREAD_MUTEX_INITIALIZER;

/* bcrypt runs on at most all cores but one at a time. When a class logs in at
 * once, 200 hashes of ~100 ms would otherwise take every core for seconds
 * and a student's upload or page would wait behind them; this way logins
 * queue for their turn and the rest of the server keeps a core. */
static pthread_mutex_t hash_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t hash_turn = PTHREAD_COND_INITIALIZER;
static long hashing, hash_slots;

static void
hash_begin(void)
{
	pthread_mutex_lock(&hash_lock);
	if (hash_slots == 0) {
		long cpus = sysconf(_SC_NPROCESSORS_ONLN);

		hash_slots = cpus > 1 ? cpus - 1 : 1;
	}
	while (hashing >= hash_slots)
		pthread_cond_wait(&hash_turn, &hash_lock);
	hashing++;
	pthread_mutex_unlock(&hash_lock);
}

static void
hash_end(void)
{
	pthread_mutex_lock(&hash_lock);
	hashing--;
	pthread_cond_signal(&hash_turn);
	pthread_mutex_unlock(&hash_lock);
}

/* crypt_rn() in its turn. */
static char *
bcrypt(const char *password, const char *setting, struct crypt_data *cd)
{
	char *out;

	hash_begin();
	out = crypt_rn(password, setting, cd, sizeof *cd);
	hash_end();
	return out;
}

static int
fill_random(void *buf, size_t len)
{
	unsigned char *p = buf;

	while (len > 0) {
		ssize_t n = getrandom(p, len, 0);

		if (n <= 0)
			return -1;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

static int
hash_at(const char *password, unsigned long cost, char *out, size_t outlen)
{
	char salt[CRYPT_GENSALT_OUTPUT_SIZE];
	struct crypt_data *cd = NULL;
	size_t len = strlen(password);
	int rc = -1;

	if (len == 0 || len > AUTH_PASSWORD_MAX)
		goto fail;
	if (crypt_gensalt_rn(AUTH_BCRYPT_PREFIX, cost, NULL, 0, salt,
	    sizeof salt) == NULL)
		goto fail;
	if ((cd = calloc(1, sizeof *cd)) == NULL)
		goto fail;
	if (bcrypt(password, salt, cd) == NULL || cd->output[0] == '*' ||
	    strncmp(cd->output, AUTH_BCRYPT_PREFIX, 4) != 0 || strlen(cd->output) >= outlen)
		goto fail;
	memcpy(out, cd->output, strlen(cd->output) + 1);
	rc = 0;
fail:
	if (cd) {
		explicit_bzero(cd, sizeof *cd);
		free(cd);
	}
	return rc;
}

int
auth_hash_password(const char *password, char *out, size_t outlen)
{
	return hash_at(password, AUTH_BCRYPT_COST, out, outlen);
}

int
auth_hash_one_time(const char *password, char *out, size_t outlen)
{
	return hash_at(password, AUTH_ONE_TIME_COST, out, outlen);
}

static int
is_bcrypt(const char *stored)
{
	return stored != NULL && strncmp(stored, AUTH_BCRYPT_PREFIX, 4) == 0 &&
	    strlen(stored) == 60;
}

int
auth_check_password(const char *password, const char *stored)
{
	char key[AUTH_PASSWORD_MAX + 1];
	struct crypt_data *cd;
	size_t len = strlen(password);
	int ok = 0, real = is_bcrypt(stored);

	if ((cd = calloc(1, sizeof *cd)) == NULL)
		return 0;
	/* A longer password is hashed as its first AUTH_PASSWORD_MAX bytes (all
	 * bcrypt reads), so it costs a bcrypt like any other, then fails:
	 * accepting it would let any tail after a right password in. */
	memcpy(key, password, len < AUTH_PASSWORD_MAX ? len : AUTH_PASSWORD_MAX);
	key[len < AUTH_PASSWORD_MAX ? len : AUTH_PASSWORD_MAX] = '\0';
	if (bcrypt(key, real ? stored : dummy_hash, cd) != NULL && cd->output[0] != '*')
		ok = auth_equal(cd->output, real ? stored : dummy_hash) && real &&
		    len <= AUTH_PASSWORD_MAX;
	explicit_bzero(key, sizeof key);
	explicit_bzero(cd, sizeof *cd);
	free(cd);
	return ok;
}

int
auth_random_hex(char *out, size_t nbytes)
{
	static const char hex[] = "0123456789abcdef";
	unsigned char buf[64];

	if (nbytes > sizeof buf || fill_random(buf, nbytes) < 0)
		return -1;
	for (size_t i = 0; i < nbytes; i++) {
		out[2 * i] = hex[buf[i] >> 4];
		out[2 * i + 1] = hex[buf[i] & 15];
	}
	out[2 * nbytes] = '\0';
	explicit_bzero(buf, sizeof buf);
	return 0;
}

int
auth_new_password(char out[AUTH_GENERATED_LEN + 1])
{
	static const char alphabet[] = "abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789";
	const size_t n = sizeof alphabet - 1;	/* 56 */
	size_t i = 0;

	while (i < AUTH_GENERATED_LEN) {
		unsigned char b;

		if (fill_random(&b, 1) < 0)
			return -1;
		if (b >= 256 - 256 % n)	/* keep the choice uniform */
			continue;
		out[i++] = alphabet[b % n];
	}
	out[i] = '\0';
	return 0;
}

void
auth_token_hash(const char *token, char out[AUTH_TOKEN_HEX + 1])
{
	sha256_hex(token, strlen(token), out);
}

int
auth_equal(const char *a, const char *b)
{
	size_t la, lb;
	unsigned char diff = 0;

	if (a == NULL || b == NULL)
		return 0;
	la = strlen(a);
	lb = strlen(b);
	if (la != lb)
		return 0;
	for (size_t i = 0; i < la; i++)
		diff |= (unsigned char)(a[i] ^ b[i]);
	return diff == 0;
}

/* The slot for `key` in `t`, or, when `make`, a free one or one whose
 * window has ended, taken over; NULL when there is none. An entry still
 * counting is never taken over. Called with throttle_lock held. */
static struct throttle_slot *
find_slot(struct throttle_table *t, const char *key, time_t now, int make)
{
	struct throttle_slot *room = NULL;

	for (size_t i = 0; i < t->n; i++) {
		struct throttle_slot *s = &t->slots[i];
		int ended = now - s->since >= AUTH_THROTTLE_WINDOW_S;

		if (s->key[0] && strcmp(s->key, key) == 0) {
			if (ended) {
				s->since = now;
				s->failures = 0;
			}
			return s;
		}
		if (room == NULL && (s->key[0] == '\0' || ended))
			room = s;
	}
	if (!make || room == NULL)
		return NULL;
	snprintf(room->key, sizeof room->key, "%s", key);
	room->since = now;
	room->failures = 0;
	return room;
}

/* Seconds until an entry of `t` ends its window (0 when one has room now).
 * Called with throttle_lock held. */
static int
until_room(const struct throttle_table *t, time_t now)
{
	time_t first = 0;

	for (size_t i = 0; i < t->n; i++) {
		const struct throttle_slot *s = &t->slots[i];

		if (s->key[0] == '\0' || now - s->since >= AUTH_THROTTLE_WINDOW_S)
			return 0;
		if (first == 0 || s->since < first)
			first = s->since;
	}
	return (int)(first + AUTH_THROTTLE_WINDOW_S - now);
}

/* The key of a throttle_slot: `prefix` and `name`, with "@" `addr` when
 * `addr` is not NULL. */
static void
slot_key(char key[THROTTLE_KEY], const char *prefix, const char *name, const char *addr)
{
	snprintf(key, THROTTLE_KEY, "%s%s%s%s", prefix, name, addr ? "@" : "", addr ? addr : "");
}

static int
wait_for(struct throttle_table *t, const char *prefix, const char *name, const char *addr,
    int max, time_t now)
{
	struct throttle_slot *s;
	char key[THROTTLE_KEY];

	slot_key(key, prefix, name, addr);
	if ((s = find_slot(t, key, now, 0)) == NULL || s->failures < max)
		return 0;
	return (int)(s->since + AUTH_THROTTLE_WINDOW_S - now);
}

int
auth_throttle_wait(const char *username, const char *addr, int known, time_t now)
{
	char key[THROTTLE_KEY];
	int p, a, u;

	pthread_mutex_lock(&throttle_lock);
	p = wait_for(&general, "p:", username, addr, AUTH_THROTTLE_PAIR, now);
	a = wait_for(&general, "a:", addr, NULL, AUTH_THROTTLE_ADDR, now);
	u = wait_for(known ? &accounts : &general, "u:", username, NULL, AUTH_THROTTLE_USER,
	    now);
	slot_key(key, "u:", username, NULL);
	if (known && find_slot(&accounts, key, now, 0) == NULL)
		u = until_room(&accounts, now);
	pthread_mutex_unlock(&throttle_lock);
	if (a > p)
		p = a;
	return u > p ? u : p;
}

/* One more failure on `key` in `t`, when it has room. */
static void
count_failure(struct throttle_table *t, const char *prefix, const char *name,
    const char *addr, time_t now)
{
	struct throttle_slot *s;
	char key[THROTTLE_KEY];

	slot_key(key, prefix, name, addr);
	if ((s = find_slot(t, key, now, 1)) != NULL)
		s->failures++;
}

void
auth_throttle_fail(const char *username, const char *addr, int known, time_t now)
{
	pthread_mutex_lock(&throttle_lock);
	count_failure(&general, "p:", username, addr, now);
	count_failure(&general, "a:", addr, NULL, now);
	count_failure(known ? &accounts : &general, "u:", username, NULL, now);
	pthread_mutex_unlock(&throttle_lock);
}

/* Empty the slot of `key` in `t`, if any. Called with throttle_lock held. */
static void
drop(struct throttle_table *t, const char *key)
{
	struct throttle_slot *s;

	if ((s = find_slot(t, key, 0, 0)) != NULL)
		memset(s, 0, sizeof *s);
}

void
auth_throttle_clear(const char *username, const char *addr)
{
	char key[THROTTLE_KEY];

	pthread_mutex_lock(&throttle_lock);
	slot_key(key, "u:", username, NULL);
	drop(&accounts, key);
	drop(&general, key);
	slot_key(key, "p:", username, addr);
	drop(&general, key);
	pthread_mutex_unlock(&throttle_lock);
}

void
auth_throttle_forget(const char *username)
{
	char user[THROTTLE_KEY], pair[THROTTLE_KEY];
	size_t n;

	slot_key(user, "u:", username, NULL);
	n = (size_t)snprintf(pair, sizeof pair, "p:%s@", username);
	pthread_mutex_lock(&throttle_lock);
	drop(&accounts, user);
	for (size_t i = 0; i < general.n; i++)
		if (strcmp(general.slots[i].key, user) == 0 || (n < sizeof pair &&
		    strncmp(general.slots[i].key, pair, n) == 0))
			memset(&general.slots[i], 0, sizeof general.slots[i]);
	pthread_mutex_unlock(&throttle_lock);
}
