#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "auth.h"
#include "sha256.h"
#include "unit.h"

int
main(void)
{
	char hash[AUTH_HASH_MAX], hex[AUTH_TOKEN_HEX + 1], other[AUTH_TOKEN_HEX + 1];

	TEST("sha256_hex matches the FIPS 180-2 examples") {
		sha256_hex("abc", 3, hex);
		CHECK_STR(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
		sha256_hex("", 0, hex);
		CHECK_STR(hex, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
		sha256_hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq", 56, hex);
		CHECK_STR(hex, "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
	}
	TEST("sha256_update gives the same digest fed in pieces across blocks") {
		unsigned char d[SHA256_LEN], e[SHA256_LEN];
		char buf[1000];
		struct sha256 c;

		memset(buf, 'a', sizeof buf);
		sha256_init(&c);
		sha256_update(&c, buf, 1);
		sha256_update(&c, buf, 63);
		sha256_update(&c, buf, 936);
		sha256_final(&c, d);
		sha256_init(&c);
		sha256_update(&c, buf, sizeof buf);
		sha256_final(&c, e);
		CHECK(memcmp(d, e, sizeof d) == 0);
		sha256_hex(buf, sizeof buf, hex);
		CHECK_STR(hex, "41edece42d63e8d9bf515a9ba6932e1c20cbc9f5a5d134645adb5db1b9737ea3");
	}
	TEST("auth_hash_password makes a $2b$ hash of cost 11 that auth_check_password accepts") {
		CHECK(auth_hash_password("correct horse", hash, sizeof hash) == 0);
		CHECK(strncmp(hash, "$2b$11$", 7) == 0);
		CHECK(strlen(hash) == 60);
		CHECK(auth_check_password("correct horse", hash) == 1);
		CHECK(auth_check_password("correct hors", hash) == 0);
		CHECK(auth_check_password("", hash) == 0);
	}
	TEST("auth_hash_one_time makes a cheaper $2b$ hash of cost 6 that still verifies") {
		char once[AUTH_HASH_MAX];

		CHECK(auth_hash_one_time("k7m2 p9x4 r3t8 w6y5", once, sizeof once) == 0);
		CHECK(strncmp(once, "$2b$06$", 7) == 0);
		CHECK(auth_check_password("k7m2 p9x4 r3t8 w6y5", once) == 1);
		CHECK(auth_check_password("k7m2 p9x4 r3t8 w6y4", once) == 0);
	}
	TEST("auth_hash_password salts: the same password hashes differently") {
		char again[AUTH_HASH_MAX];

		CHECK(auth_hash_password("correct horse", again, sizeof again) == 0);
		CHECK(strcmp(hash, again) != 0);
	}
	TEST("auth_hash_password refuses an empty password and one over 72 bytes") {
		char longpw[100];

		memset(longpw, 'x', sizeof longpw - 1);
		longpw[sizeof longpw - 1] = '\0';
		CHECK(auth_hash_password("", hash, sizeof hash) < 0);
		CHECK(auth_hash_password(longpw, hash, sizeof hash) < 0);
	}
	TEST("auth_check_password refuses a password longer than 72 bytes, after a bcrypt") {
		char longpw[81];
		struct timespec t0, t1;

		memset(longpw, 'c', sizeof longpw - 1);
		longpw[sizeof longpw - 1] = '\0';
		CHECK(auth_hash_password("cccccccccccccccccccccccccccccccccccccccccccccccccccccccc"
		    "cccccccccccccccc", hash, sizeof hash) == 0);		/* its first 72 */
		clock_gettime(CLOCK_MONOTONIC, &t0);
		CHECK(auth_check_password(longpw, hash) == 0);
		CHECK(auth_check_password(longpw, NULL) == 0);
		clock_gettime(CLOCK_MONOTONIC, &t1);
		/* Two checks at cost 11 take tens of milliseconds on any machine; the
		 * old shortcut took microseconds. A lower bound, which a slow day only
		 * makes easier to meet. */
		CHECK((t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) / 1000000 >= 10);
	}
	TEST("auth_check_password refuses stored hashes that are not bcrypt") {
		/* crypt("secret", "ab"): libxcrypt itself would accept it as DES. */
		CHECK(auth_check_password("secret", "abNANd1rDfiNc") == 0);
		CHECK(auth_check_password("garbage", "garbage") == 0);
		CHECK(auth_check_password("x", "") == 0);
		CHECK(auth_check_password("x", NULL) == 0);
		CHECK(auth_check_password("x", "$1$salt$hash") == 0);
	}
	TEST("auth_random_hex makes different 256-bit tokens") {
		CHECK(auth_random_hex(hex, AUTH_TOKEN_BYTES) == 0);
		CHECK(auth_random_hex(other, AUTH_TOKEN_BYTES) == 0);
		CHECK(strlen(hex) == 64 && strspn(hex, "0123456789abcdef") == 64);
		CHECK(strcmp(hex, other) != 0);
	}
	TEST("auth_token_hash is the SHA-256 of the token, not the token") {
		char h[AUTH_TOKEN_HEX + 1];

		auth_token_hash("abc", h);
		CHECK_STR(h, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
	}
	TEST("auth_equal compares whole strings") {
		CHECK(auth_equal("abc", "abc") == 1);
		CHECK(auth_equal("abc", "abd") == 0);
		CHECK(auth_equal("abc", "abcd") == 0);
		CHECK(auth_equal("", "") == 1);
		CHECK(auth_equal(NULL, "a") == 0);
	}
	TEST("auth_new_password makes readable passwords of 16 characters") {
		char pw[AUTH_GENERATED_LEN + 1], pw2[AUTH_GENERATED_LEN + 1];

		CHECK(auth_new_password(pw) == 0 && auth_new_password(pw2) == 0);
		CHECK(strlen(pw) == 16 && strcmp(pw, pw2) != 0);
		CHECK(strpbrk(pw, "0O1lI") == NULL);
	}
	TEST("auth_throttle_wait blocks a username at the address that failed 5 times, not "
	    "the student's own") {
		for (int i = 0; i < AUTH_THROTTLE_PAIR - 1; i++)
			auth_throttle_fail("ada", "10.0.0.1", 1, 1000);
		CHECK(auth_throttle_wait("ada", "10.0.0.1", 1, 1000) == 0);
		auth_throttle_fail("ada", "10.0.0.1", 1, 1000);
		CHECK(auth_throttle_wait("ada", "10.0.0.1", 1, 1010) == AUTH_THROTTLE_WINDOW_S - 10);
		CHECK(auth_throttle_wait("ada", "10.0.0.2", 1, 1010) == 0);
		CHECK(auth_throttle_wait("bob", "10.0.0.1", 1, 1010) == 0);
		CHECK(auth_throttle_wait("ada", "10.0.0.1", 1, 1000 + AUTH_THROTTLE_WINDOW_S) == 0);
	}
	TEST("auth_throttle_wait blocks a username everywhere after 50 failures from many "
	    "addresses") {
		char addr[32];

		for (int i = 0; i < AUTH_THROTTLE_USER; i++) {
			snprintf(addr, sizeof addr, "10.0.2.%d", i);
			CHECK(auth_throttle_wait("dee", addr, 1, 3000) == 0);
			auth_throttle_fail("dee", addr, 1, 3000);
		}
		CHECK(auth_throttle_wait("dee", "10.0.3.1", 1, 3001) == AUTH_THROTTLE_WINDOW_S - 1);
		CHECK(auth_throttle_wait("eve", "10.0.3.1", 1, 3001) == 0);
	}
	TEST("auth_throttle_wait blocks an address that tries many usernames") {
		char name[32];

		for (int i = 0; i < AUTH_THROTTLE_ADDR; i++) {
			snprintf(name, sizeof name, "user%d", i);
			auth_throttle_fail(name, "10.0.0.9", 1, 5000);
		}
		CHECK(auth_throttle_wait("someone", "10.0.0.9", 1, 5001) > 0);
		CHECK(auth_throttle_wait("someone", "10.0.0.8", 1, 5001) == 0);
	}
	TEST("auth_throttle_clear forgets a username's failures, there and everywhere") {
		char addr[32];

		for (int i = 0; i < AUTH_THROTTLE_USER; i++) {
			snprintf(addr, sizeof addr, "10.0.1.%d", i % 5);
			auth_throttle_fail("cy", addr, 1, 9000);
		}
		CHECK(auth_throttle_wait("cy", "10.0.1.1", 1, 9001) > 0);
		CHECK(auth_throttle_wait("cy", "10.0.1.9", 1, 9001) > 0);
		auth_throttle_clear("cy", "10.0.1.1");
		CHECK(auth_throttle_wait("cy", "10.0.1.1", 1, 9001) == 0);
		CHECK(auth_throttle_wait("cy", "10.0.1.9", 1, 9001) == 0);
		CHECK(auth_throttle_wait("cy", "10.0.1.2", 1, 9001) > 0);	/* still failing there */
	}
	TEST("auth_throttle_forget ends a username's waits at every address, and only its") {
		for (int i = 0; i < AUTH_THROTTLE_PAIR; i++) {
			auth_throttle_fail("fay", "10.0.4.1", 1, 7000);
			auth_throttle_fail("fay", "10.0.4.2", 1, 7000);
			auth_throttle_fail("fayola", "10.0.4.3", 1, 7000);
		}
		CHECK(auth_throttle_wait("fay", "10.0.4.1", 1, 7001) > 0);
		CHECK(auth_throttle_wait("fay", "10.0.4.2", 1, 7001) > 0);
		auth_throttle_forget("fay");
		CHECK(auth_throttle_wait("fay", "10.0.4.1", 1, 7001) == 0);
		CHECK(auth_throttle_wait("fay", "10.0.4.2", 1, 7001) == 0);
		CHECK(auth_throttle_wait("fayola", "10.0.4.3", 1, 7001) > 0);
	}
	TEST("a full table never forgets a locked-out pair, address or account") {
		char name[32], addr[32];

		for (int i = 0; i < AUTH_THROTTLE_PAIR; i++)
			auth_throttle_fail("gus", "10.0.5.1", 1, 20000);
		for (int i = 0; i < AUTH_THROTTLE_USER; i++) {
			snprintf(addr, sizeof addr, "10.0.6.%d", i);
			auth_throttle_fail("hal", addr, 1, 20000);
		}
		/* 2,200 failures from 110 addresses and as many usernames, known
		 * and unknown: more entries than either table holds. */
		for (int i = 0; i < 2200 * 3; i++) {
			snprintf(name, sizeof name, "flood%d", i);
			snprintf(addr, sizeof addr, "10.1.%d.%d", i / 20 / 250, i / 20 % 250);
			auth_throttle_fail(name, addr, i % 2, 20001);
		}
		CHECK(auth_throttle_wait("gus", "10.0.5.1", 1, 20002) > 0);
		CHECK(auth_throttle_wait("hal", "10.9.9.9", 1, 20002) > 0);
		CHECK(auth_throttle_wait("flood0", "10.1.0.0", 0, 20002) > 0);	/* its address */
	}
	TEST("with the account table full, a new failure still counts against its account") {
		char name[32];

		/* The table of addresses and pairs is full from the test above;
		 * a known account's failures are still counted, to the limit. */
		CHECK(auth_throttle_wait("ida", "10.2.0.0", 1, 20010) == 0);
		for (int i = 0; i < AUTH_THROTTLE_USER; i++) {
			char addr[32];

			snprintf(addr, sizeof addr, "10.2.%d.%d", i / 250, i % 250);
			auth_throttle_fail("ida", addr, 1, 20010);
		}
		CHECK(auth_throttle_wait("ida", "10.3.0.1", 1, 20011) > 0);
		/* Fill the accounts: an account with no entry then waits, as its
		 * failures could not be counted; an unknown username does not. */
		for (int i = 0; i < AUTH_THROTTLE_ACCOUNTS; i++) {
			snprintf(name, sizeof name, "acct%d", i);
			auth_throttle_fail(name, "10.4.0.1", 1, 20020);
		}
		CHECK(auth_throttle_wait("jo", "10.5.0.1", 1, 20021) > 0);
		CHECK(auth_throttle_wait("jo", "10.5.0.1", 1, 20021) <= AUTH_THROTTLE_WINDOW_S);
		CHECK(auth_throttle_wait("nobody", "10.5.0.1", 0, 20021) == 0);
		CHECK(auth_throttle_wait("ida", "10.5.0.1", 1, 20021) > 0);
		/* Once the window of the oldest entries ends, there is room again. */
		CHECK(auth_throttle_wait("jo", "10.5.0.1", 1, 20000 + AUTH_THROTTLE_WINDOW_S) == 0);
	}
	return unit_done("auth");
}
