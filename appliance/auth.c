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

static struct throttle_slot slots[AUTH_THROTTLE_SLOTS];
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
	struct crypt_data *cd;
	int ok = 0, real = is_bcrypt(stored);

	if ((cd = calloc(1, sizeof *cd)) == NULL)
		return 0;
	if (strlen(password) <= AUTH_PASSWORD_MAX &&
	    bcrypt(password, real ? stored : dummy_hash, cd) != NULL &&
	    cd->output[0] != '*')
		ok = auth_equal(cd->output, real ? stored : dummy_hash) && real;
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

/* The slot for `key`, or a free or stale one to take over when `make`;
 * NULL when there is none. Called with throttle_lock held. */
static struct throttle_slot *
find_slot(const char *key, time_t now, int make)
{
	struct throttle_slot *oldest = NULL;

	for (size_t i = 0; i < AUTH_THROTTLE_SLOTS; i++) {
		struct throttle_slot *t = &slots[i];

		if (t->key[0] && strcmp(t->key, key) == 0) {
			if (now - t->since >= AUTH_THROTTLE_WINDOW_S) {
				t->since = now;
				t->failures = 0;
			}
			return t;
		}
		if (oldest == NULL || t->key[0] == '\0' || (oldest->key[0] &&
		    t->since < oldest->since))
			oldest = t;
	}
	if (!make)
		return NULL;
	snprintf(oldest->key, sizeof oldest->key, "%s", key);
	oldest->since = now;
	oldest->failures = 0;
	return oldest;
}

/* The key of a throttle_slot: `prefix` and `name`, with "@" `addr` when
 * `addr` is not NULL. */
static void
slot_key(char key[THROTTLE_KEY], const char *prefix, const char *name, const char *addr)
{
	snprintf(key, THROTTLE_KEY, "%s%s%s%s", prefix, name, addr ? "@" : "", addr ? addr : "");
}

static int
wait_for(const char *prefix, const char *name, const char *addr, int max, time_t now)
{
	struct throttle_slot *t;
	char key[THROTTLE_KEY];

	slot_key(key, prefix, name, addr);
	if ((t = find_slot(key, now, 0)) == NULL || t->failures < max)
		return 0;
	return (int)(t->since + AUTH_THROTTLE_WINDOW_S - now);
}

int
auth_throttle_wait(const char *username, const char *addr, time_t now)
{
	int p, a, u;

	pthread_mutex_lock(&throttle_lock);
	p = wait_for("p:", username, addr, AUTH_THROTTLE_PAIR, now);
	a = wait_for("a:", addr, NULL, AUTH_THROTTLE_ADDR, now);
	u = wait_for("u:", username, NULL, AUTH_THROTTLE_USER, now);
	pthread_mutex_unlock(&throttle_lock);
	if (a > p)
		p = a;
	return u > p ? u : p;
}

void
auth_throttle_fail(const char *username, const char *addr, time_t now)
{
	char key[THROTTLE_KEY];

	pthread_mutex_lock(&throttle_lock);
	slot_key(key, "p:", username, addr);
	find_slot(key, now, 1)->failures++;
	slot_key(key, "a:", addr, NULL);
	find_slot(key, now, 1)->failures++;
	slot_key(key, "u:", username, NULL);
	find_slot(key, now, 1)->failures++;
	pthread_mutex_unlock(&throttle_lock);
}

void
auth_throttle_clear(const char *username, const char *addr)
{
	struct throttle_slot *t;
	char key[THROTTLE_KEY];

	pthread_mutex_lock(&throttle_lock);
	slot_key(key, "u:", username, NULL);
	if ((t = find_slot(key, 0, 0)) != NULL)
		memset(t, 0, sizeof *t);
	slot_key(key, "p:", username, addr);
	if ((t = find_slot(key, 0, 0)) != NULL)
		memset(t, 0, sizeof *t);
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
	for (size_t i = 0; i < AUTH_THROTTLE_SLOTS; i++)
		if (strcmp(slots[i].key, user) == 0 || (n < sizeof pair &&
		    strncmp(slots[i].key, pair, n) == 0))
			memset(&slots[i], 0, sizeof slots[i]);
	pthread_mutex_unlock(&throttle_lock);
}
