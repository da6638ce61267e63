/*
 * The students of tools/bench-server's classroom burst, one thread each:
 *
 *     build/bench-load --port P --password PW --slug SLUG --source FILE
 *         --window SECONDS USERNAME...
 *
 * Each student logs in to markbook on 127.0.0.1:P from a loopback address of
 * its own (127.0.1.1, 127.0.1.2, ...: a computer each, as markbook holds one
 * address to a few connections at once), opens the page (GET /,
 * /api/exercises, /exercises/SLUG.py), uploads FILE for SLUG at a moment
 * drawn from [0, SECONDS), follows the submission once a second as
 * static/student.js does until it is graded, and reloads the exercise list.
 * One line an event on stdout, for bench-server to sum up:
 *
 *     page SECONDS              a page request or a poll, and how long it took
 *     upload SECONDS AT         an upload answered 202, and when (CLOCK_MONOTONIC)
 *     graded AT                 when the student saw the full score
 *     error USERNAME: WHAT      what stopped that student
 *
 * It is C so that the generator's own waits (a Python generator's threads
 * queue for the GIL) are not timed as the server's. Exits 0 when it ran, whatever
 * the students met; 1 on bad usage or when it could not start.
 */
#include <arpa/inet.h>
#include <cjson/cJSON.h>
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "fsutil.h"

#define LOAD_STUDENTS_MAX	4096		/* markbook's own thread limit */
#define LOAD_NAME_MAX		64		/* a username or a slug */
#define LOAD_PASSWORD_MAX	72		/* bcrypt reads no further */
#define LOAD_WINDOW_MAX		3600.0
#define LOAD_SOURCE_MAX		(1024 * 1024)	/* markbook takes no larger notebook */
#define LOAD_HEAD_MAX		16384		/* status line and headers of a reply */
#define LOAD_REPLY_MAX		(1024 * 1024)	/* a reply's body */
#define LOAD_REQUEST_MAX	1024		/* request line and headers */
#define LOAD_TOKEN_MAX		128		/* session cookie, CSRF token */
#define LOAD_ERR_MAX		256
#define LOAD_EXCERPT_MAX	100		/* of a reply body, in an error line */
#define LOAD_TIMEOUT_S		60		/* a stuck server is an error, not a hang */
#define LOAD_POLL_S		1.0		/* static/student.js */
#define LOAD_POLLS_MAX		900		/* 15 minutes of "queued" is an error */
#define LOAD_STACK		(256 * 1024)

/* What every student shares; read-only once the students start, but for the
 * locks. */
struct load {
	struct sockaddr_in addr;
	const char *password;
	const char *slug;
	char *upload;			/* the upload's JSON body, the same for all */
	size_t upload_len;
	double window;
	pthread_mutex_t out;		/* one line at a time on stdout */
	pthread_mutex_t gate;		/* with `go`: everyone starts together */
	pthread_cond_t go;
	int state;			/* 0 wait, 1 go, -1 give up */
};

struct student {
	struct load *load;
	struct sockaddr_in source;	/* its own computer's address */
	const char *name;
	pthread_t thread;
	unsigned seed;
	char cookie[LOAD_TOKEN_MAX + 1];
	char csrf[LOAD_TOKEN_MAX + 1];
	char *reply;			/* LOAD_HEAD_MAX + LOAD_REPLY_MAX + 1 bytes */
	int status;			/* of the last reply */
	const char *body;		/* into `reply`, NUL-terminated */
	size_t body_len;
	char err[LOAD_ERR_MAX];
};

static double
load_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void
load_sleep(double seconds)
{
	struct timespec ts = { .tv_sec = (time_t)seconds }, rem;

	ts.tv_nsec = (long)((seconds - (double)ts.tv_sec) * 1e9);
	while (clock_nanosleep(CLOCK_MONOTONIC, 0, &ts, &rem) == EINTR)
		ts = rem;
}

/* Print one whole line on stdout while other students print theirs. */
static void __attribute__((format(printf, 2, 3)))
load_print(struct load *load, const char *fmt, ...)
{
	va_list ap;

	pthread_mutex_lock(&load->out);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	pthread_mutex_unlock(&load->out);
}

/* Say in `s->err` what went wrong, and return -1. */
static int __attribute__((format(printf, 2, 3)))
load_fail(struct student *s, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(s->err, sizeof s->err, fmt, ap);
	va_end(ap);
	return -1;
}

/* Fail with what the server answered: the status and the start of the body,
 * on one line. */
static int
load_fail_reply(struct student *s, const char *what)
{
	char excerpt[LOAD_EXCERPT_MAX + 1];
	size_t i, n = s->body_len < LOAD_EXCERPT_MAX ? s->body_len : LOAD_EXCERPT_MAX;

	for (i = 0; i < n; i++)
		excerpt[i] = s->body[i] >= 0x20 && s->body[i] < 0x7f ? s->body[i] : '.';
	excerpt[n] = '\0';
	return load_fail(s, "%s %d %s", what, s->status, excerpt);
}

/* The value of the first header `name` among the `len` bytes of `head`
 * (status line first, lines ending in CRLF), without its leading blanks and
 * with its length in `*vlen`; NULL when there is none. */
static const char *
load_header(const char *head, size_t len, const char *name, size_t *vlen)
{
	const char *line = head, *end = head + len, *eol, *v;
	size_t nlen = strlen(name);

	for (; line < end; line = eol + 2) {
		if ((eol = memmem(line, (size_t)(end - line), "\r\n", 2)) == NULL)
			break;
		if ((size_t)(eol - line) <= nlen || line[nlen] != ':' ||
		    strncasecmp(line, name, nlen) != 0)
			continue;
		for (v = line + nlen + 1; v < eol && (*v == ' ' || *v == '\t'); v++)
			;
		*vlen = (size_t)(eol - v);
		return v;
	}
	return NULL;
}

/* Read the status, the session cookie and the length of a reply whose headers
 * are the first `len` bytes of `s->reply`. Sets `*want` to the Content-Length,
 * or SIZE_MAX when the body runs to the end of the connection. Returns 0, or
 * -1 with `s->err` when the headers are not what markbook sends. */
static int
load_parse_head(struct student *s, size_t len, size_t *want)
{
	const char *h = s->reply, *v;
	size_t vlen, cl = 0, i;

	if (len < 12 || strncmp(h, "HTTP/1.", 7) != 0 || h[8] != ' ' ||
	    sscanf(h + 9, "%3d", &s->status) != 1)
		return load_fail(s, "the reply is not HTTP");
	if ((v = load_header(h, len, "Transfer-Encoding", &vlen)) != NULL)
		return load_fail(s, "a reply in chunks (%.*s); markbook sends a length",
		    (int)(vlen < 32 ? vlen : 32), v);
	/* As the Python client did: the first cookie, when it is a session. */
	if ((v = load_header(h, len, "Set-Cookie", &vlen)) != NULL &&
	    vlen > 17 && strncmp(v, "markbook_session=", 17) == 0) {
		for (i = 17; i < vlen && ((v[i] >= '0' && v[i] <= '9') ||
		    (v[i] >= 'a' && v[i] <= 'f')); i++)
			;
		if (i < vlen && v[i] == ';' && i > 17 && i - 17 <= LOAD_TOKEN_MAX)
			snprintf(s->cookie, sizeof s->cookie, "%.*s", (int)(i - 17), v + 17);
	}
	*want = SIZE_MAX;
	if ((v = load_header(h, len, "Content-Length", &vlen)) == NULL)
		return 0;
	for (i = 0; i < vlen && v[i] >= '0' && v[i] <= '9'; i++)
		if ((cl = cl * 10 + (size_t)(v[i] - '0')) > LOAD_REPLY_MAX)
			return load_fail(s, "a reply of more than %d bytes", LOAD_REPLY_MAX);
	if (i == 0 || i < vlen)
		return load_fail(s, "a reply with a bad Content-Length");
	*want = cl;
	return 0;
}

/* Read one reply from `fd` into `s->reply`: the status into `s->status`, the
 * body into `s->body` and `s->body_len`. Returns 0, or -1 with `s->err`. */
static int
load_read_reply(struct student *s, int fd)
{
	const size_t cap = LOAD_HEAD_MAX + LOAD_REPLY_MAX;
	size_t got = 0, head = 0, want = SIZE_MAX;
	const char *end;
	ssize_t n;

	for (;;) {
		if (got == cap)
			return load_fail(s, "a reply of more than %d bytes", LOAD_REPLY_MAX);
		if ((n = recv(fd, s->reply + got, cap - got, 0)) < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return load_fail(s, "no reply within %d s", LOAD_TIMEOUT_S);
		if (n < 0)
			return load_fail(s, "reading the reply: %s", strerror(errno));
		if (n == 0)
			break;
		got += (size_t)n;
		if (head == 0) {
			if ((end = memmem(s->reply, got, "\r\n\r\n", 4)) == NULL) {
				if (got > LOAD_HEAD_MAX)
					return load_fail(s, "reply headers over %d bytes",
					    LOAD_HEAD_MAX);
				continue;
			}
			head = (size_t)(end - s->reply) + 4;
			if (load_parse_head(s, head - 2, &want) < 0)
				return -1;
		}
		if (want != SIZE_MAX && got - head >= want)
			break;
	}
	if (head == 0)
		return load_fail(s, "the server closed the connection without a reply");
	if (want != SIZE_MAX && got - head < want)
		return load_fail(s, "the reply ended after %zu of %zu bytes", got - head, want);
	s->body_len = want != SIZE_MAX ? want : got - head;
	if (s->body_len > LOAD_REPLY_MAX)
		return load_fail(s, "a reply of more than %d bytes", LOAD_REPLY_MAX);
	s->body = s->reply + head;
	s->reply[head + s->body_len] = '\0';
	return 0;
}

/* One request on a connection of its own (Connection: close, as the Python
 * client did), with the student's cookie and, on a POST, CSRF token. Sets
 * `*seconds` to the time from before connecting to the last byte of the
 * reply, as the Python client measured. Returns 0 with the reply in `s`,
 * whatever its status, or -1 with `s->err`. */
static int
load_request(struct student *s, const char *method, const char *path, const char *body,
    size_t body_len, double *seconds)
{
	const struct timeval tv = { .tv_sec = LOAD_TIMEOUT_S };
	const int one = 1;
	char cookie[LOAD_TOKEN_MAX + 32] = "", post[LOAD_TOKEN_MAX + 96] = "";
	char head[LOAD_REQUEST_MAX], *req = NULL;
	size_t len, sent = 0;
	double start = load_now();
	ssize_t n;
	int fd = -1, hlen, rc = -1;

	if (s->cookie[0])
		snprintf(cookie, sizeof cookie, "Cookie: markbook_session=%s\r\n", s->cookie);
	if (body)
		snprintf(post, sizeof post, "%s%s%sContent-Type: application/json\r\n"
		    "Content-Length: %zu\r\n", s->csrf[0] ? "X-CSRF-Token: " : "", s->csrf,
		    s->csrf[0] ? "\r\n" : "", body_len);
	hlen = snprintf(head, sizeof head, "%s %s HTTP/1.1\r\nHost: 127.0.0.1:%d\r\n"
	    "Connection: close\r\n%s%s\r\n", method, path, ntohs(s->load->addr.sin_port),
	    cookie, post);
	if (hlen < 0 || (size_t)hlen >= sizeof head) {
		load_fail(s, "%s %s: request headers over %d bytes", method, path,
		    LOAD_REQUEST_MAX);
		goto fail;
	}
	/* One send of the whole request: headers then body in two would wait on
	 * delayed ACKs. */
	len = (size_t)hlen + (body ? body_len : 0);
	if ((req = malloc(len)) == NULL) {
		load_fail(s, "%s %s: out of memory", method, path);
		goto fail;
	}
	memcpy(req, head, (size_t)hlen);
	if (body)
		memcpy(req + hlen, body, body_len);
	if ((fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0 ||
	    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv) < 0 ||
	    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv) < 0 ||
	    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one) < 0) {
		load_fail(s, "%s %s: socket: %s", method, path, strerror(errno));
		goto fail;
	}
	/* The port is chosen at connect(), so a burst does not run out of them. */
	if (setsockopt(fd, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &one, sizeof one) < 0 ||
	    bind(fd, (const struct sockaddr *)&s->source, sizeof s->source) < 0) {
		load_fail(s, "%s %s: bind: %s", method, path, strerror(errno));
		goto fail;
	}
	if (connect(fd, (const struct sockaddr *)&s->load->addr, sizeof s->load->addr) < 0) {
		load_fail(s, "%s %s: connect: %s", method, path,
		    errno == EINPROGRESS ? "no answer" : strerror(errno));
		goto fail;
	}
	while (sent < len) {
		if ((n = send(fd, req + sent, len - sent, MSG_NOSIGNAL)) < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			load_fail(s, "%s %s: sending: %s", method, path,
			    errno == EAGAIN ? "timed out" : strerror(errno));
			goto fail;
		}
		sent += (size_t)n;
	}
	if (load_read_reply(s, fd) < 0) {
		char why[LOAD_ERR_MAX];

		snprintf(why, sizeof why, "%s", s->err);
		load_fail(s, "%s %s: %s", method, path, why);
		goto fail;
	}
	*seconds = load_now() - start;
	rc = 0;
fail:
	if (fd >= 0)
		close(fd);
	free(req);
	return rc;
}

/* A GET that must answer 200, counted as a page. */
static int
load_page(struct student *s, const char *path, const char *what)
{
	double t;

	if (load_request(s, "GET", path, NULL, 0, &t) < 0)
		return -1;
	if (s->status != 200)
		return load_fail_reply(s, what);
	load_print(s->load, "page %.6f\n", t);
	return 0;
}

/* POST /api/login and keep the session cookie and the CSRF token. */
static int
load_login(struct student *s)
{
	cJSON *doc = cJSON_CreateObject(), *csrf;
	char *body = NULL;
	double t;
	int rc = -1;

	if (doc == NULL || cJSON_AddStringToObject(doc, "username", s->name) == NULL ||
	    cJSON_AddStringToObject(doc, "password", s->load->password) == NULL ||
	    (body = cJSON_PrintUnformatted(doc)) == NULL) {
		load_fail(s, "login: out of memory");
		goto fail;
	}
	cJSON_Delete(doc);
	doc = NULL;
	if (load_request(s, "POST", "/api/login", body, strlen(body), &t) < 0)
		goto fail;
	if (s->status != 200) {
		load_fail_reply(s, "login");
		goto fail;
	}
	doc = cJSON_ParseWithLength(s->body, s->body_len);
	csrf = cJSON_GetObjectItemCaseSensitive(doc, "csrf_token");
	if (!cJSON_IsString(csrf) || strlen(csrf->valuestring) > LOAD_TOKEN_MAX) {
		load_fail_reply(s, "login without a csrf_token:");
		goto fail;
	}
	if (s->cookie[0] == '\0') {
		load_fail(s, "login without a markbook_session cookie");
		goto fail;
	}
	snprintf(s->csrf, sizeof s->csrf, "%s", csrf->valuestring);
	rc = 0;
fail:
	cJSON_Delete(doc);
	free(body);
	return rc;
}

/* Follow submission `id` once a second until it is graded, as the student's
 * page does. Returns 0 when it scored full marks. */
static int
load_follow(struct student *s, long long id)
{
	const cJSON *status = NULL, *score, *max;
	char path[64];
	cJSON *doc = NULL;
	double t;
	int polls, rc = -1;

	snprintf(path, sizeof path, "/api/submissions/%lld", id);
	for (polls = 0;; polls++) {
		if (polls == LOAD_POLLS_MAX) {
			load_fail(s, "still not graded after %d polls", LOAD_POLLS_MAX);
			goto fail;
		}
		load_sleep(LOAD_POLL_S);
		if (load_request(s, "GET", path, NULL, 0, &t) < 0)
			goto fail;
		if (s->status != 200) {
			load_fail_reply(s, "poll");
			goto fail;
		}
		load_print(s->load, "page %.6f\n", t);
		cJSON_Delete(doc);
		doc = cJSON_ParseWithLength(s->body, s->body_len);
		status = cJSON_GetObjectItemCaseSensitive(doc, "status");
		if (!cJSON_IsString(status)) {
			load_fail_reply(s, "poll without a status:");
			goto fail;
		}
		if (strcmp(status->valuestring, "done") == 0 ||
		    strcmp(status->valuestring, "error") == 0)
			break;
	}
	score = cJSON_GetObjectItemCaseSensitive(doc, "score");
	max = cJSON_GetObjectItemCaseSensitive(doc, "max_points");
	if (strcmp(status->valuestring, "done") != 0 || !cJSON_IsNumber(score) ||
	    !cJSON_IsNumber(max) || score->valuedouble != max->valuedouble) {
		load_fail(s, "graded %s %g of %g", status->valuestring,
		    cJSON_IsNumber(score) ? score->valuedouble : NAN,
		    cJSON_IsNumber(max) ? max->valuedouble : NAN);
		goto fail;
	}
	rc = 0;
fail:
	cJSON_Delete(doc);
	return rc;
}

/* One student's visit, from login to the reloaded exercise list. Returns 0,
 * or -1 with `s->err`. */
static int
load_visit(struct student *s)
{
	char path[LOAD_NAME_MAX + 16];
	const cJSON *id;
	cJSON *doc = NULL;
	double t, at;
	int rc = -1;

	if (load_login(s) < 0 || load_page(s, "/", "/") < 0 ||
	    load_page(s, "/api/exercises", "/api/exercises") < 0)
		goto fail;
	snprintf(path, sizeof path, "/exercises/%s.py", s->load->slug);
	if (load_page(s, path, path) < 0)
		goto fail;
	load_sleep((double)rand_r(&s->seed) / ((double)RAND_MAX + 1) * s->load->window);
	if (load_request(s, "POST", "/api/submissions", s->load->upload, s->load->upload_len,
	    &t) < 0)
		goto fail;
	at = load_now();
	if (s->status != 202) {
		load_fail_reply(s, "upload");
		goto fail;
	}
	doc = cJSON_ParseWithLength(s->body, s->body_len);
	id = cJSON_GetObjectItemCaseSensitive(doc, "id");
	if (!cJSON_IsNumber(id)) {
		load_fail_reply(s, "upload without an id:");
		goto fail;
	}
	load_print(s->load, "upload %.6f %.6f\n", t, at);
	if (load_follow(s, (long long)id->valuedouble) < 0)
		goto fail;
	load_print(s->load, "graded %.6f\n", load_now());
	if (load_page(s, "/api/exercises", "/api/exercises") < 0)
		goto fail;
	rc = 0;
fail:
	cJSON_Delete(doc);
	return rc;
}

static void *
load_student(void *arg)
{
	struct student *s = arg;
	struct load *load = s->load;
	int state;

	pthread_mutex_lock(&load->gate);
	while ((state = load->state) == 0)
		pthread_cond_wait(&load->go, &load->gate);
	pthread_mutex_unlock(&load->gate);
	if (state > 0 && load_visit(s) < 0)
		load_print(load, "error %s: %s\n", s->name, s->err);
	return NULL;
}

/* Open the gate for every student waiting at it: `state` 1 to start, -1 to
 * give up. */
static void
load_open_gate(struct load *load, int state)
{
	pthread_mutex_lock(&load->gate);
	load->state = state;
	pthread_cond_broadcast(&load->go);
	pthread_mutex_unlock(&load->gate);
}

/* The upload's JSON body, {"exercise": slug, "source": text}, or NULL. */
static char *
load_upload_body(const char *slug, const char *source)
{
	cJSON *doc = cJSON_CreateObject();
	char *body = NULL;

	if (doc && cJSON_AddStringToObject(doc, "exercise", slug) &&
	    cJSON_AddStringToObject(doc, "source", source))
		body = cJSON_PrintUnformatted(doc);
	cJSON_Delete(doc);
	return body;
}

/* 1 when `s` is 1 to LOAD_NAME_MAX letters, digits, '.', '_' or '-': it goes
 * into URLs and error lines as it is. */
static int
load_valid_name(const char *s)
{
	size_t n = strlen(s);

	return n > 0 && n <= LOAD_NAME_MAX &&
	    strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-") == n;
}

static void
load_usage(void)
{
	fprintf(stderr, "usage: bench-load --port P --password PW --slug SLUG --source FILE "
	    "--window SECONDS USERNAME...\n");
}

int
main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "port", required_argument, NULL, 'p' },
		{ "password", required_argument, NULL, 'w' },
		{ "slug", required_argument, NULL, 's' },
		{ "source", required_argument, NULL, 'f' },
		{ "window", required_argument, NULL, 't' },
		{ NULL, 0, NULL, 0 }
	};
	struct load load = { .addr.sin_family = AF_INET, .window = -1 };
	struct student *students = NULL;
	pthread_attr_t attr;
	const char *source_path = NULL;
	char *source = NULL, *end;
	size_t n = 0, created = 0, i, source_len;
	long port = 0;
	int c, rc = 1;

	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'p':
			port = strtol(optarg, &end, 10);
			if (*end != '\0' || port < 1 || port > 65535)
				port = 0;
			break;
		case 'w':
			load.password = optarg;
			break;
		case 's':
			load.slug = optarg;
			break;
		case 'f':
			source_path = optarg;
			break;
		case 't':
			load.window = strtod(optarg, &end);
			if (*end != '\0' || !(load.window >= 0 && load.window <= LOAD_WINDOW_MAX))
				load.window = -1;
			break;
		default:
			load_usage();
			return 1;
		}
	}
	n = optind < argc ? (size_t)(argc - optind) : 0;
	if (port == 0 || load.password == NULL || load.slug == NULL || source_path == NULL ||
	    load.window < 0 || n == 0) {
		load_usage();
		fprintf(stderr, "bench-load: --port is 1 to 65535, --window 0 to %g seconds, and "
		    "every option and at least one username are needed.\n", LOAD_WINDOW_MAX);
		return 1;
	}
	if (n > LOAD_STUDENTS_MAX) {
		fprintf(stderr, "bench-load: %zu students; at most %d.\n", n, LOAD_STUDENTS_MAX);
		return 1;
	}
	if (strlen(load.password) > LOAD_PASSWORD_MAX) {
		fprintf(stderr, "bench-load: the password is longer than %d bytes.\n",
		    LOAD_PASSWORD_MAX);
		return 1;
	}
	if (!load_valid_name(load.slug)) {
		fprintf(stderr, "bench-load: \"%s\" is not a slug: use 1 to %d letters, digits, "
		    "'.', '_' or '-'.\n", load.slug, LOAD_NAME_MAX);
		return 1;
	}
	for (i = 0; i < n; i++)
		if (!load_valid_name(argv[optind + (int)i])) {
			fprintf(stderr, "bench-load: \"%s\" is not a username: use 1 to %d "
			    "letters, digits, '.', '_' or '-'.\n", argv[optind + (int)i],
			    LOAD_NAME_MAX);
			return 1;
		}
	load.addr.sin_port = htons((uint16_t)port);
	load.addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	/* A server that closes early must be an error line, not a dead process. */
	signal(SIGPIPE, SIG_IGN);
	pthread_mutex_init(&load.out, NULL);
	pthread_mutex_init(&load.gate, NULL);
	pthread_cond_init(&load.go, NULL);
	pthread_attr_init(&attr);
	pthread_attr_setstacksize(&attr, LOAD_STACK);

	if ((source = fs_read_file(source_path, LOAD_SOURCE_MAX, &source_len)) == NULL) {
		fprintf(stderr, "bench-load: cannot read %s: %s\n", source_path,
		    errno == EFBIG ? "larger than 1 MiB" : strerror(errno));
		goto fail;
	}
	if ((load.upload = load_upload_body(load.slug, source)) == NULL ||
	    (students = calloc(n, sizeof *students)) == NULL) {
		fprintf(stderr, "bench-load: out of memory\n");
		goto fail;
	}
	load.upload_len = strlen(load.upload);
	for (i = 0; i < n; i++) {
		students[i].load = &load;
		students[i].source.sin_family = AF_INET;
		students[i].source.sin_addr.s_addr = htonl(0x7f000101u + (uint32_t)i);
		students[i].name = argv[optind + (int)i];
		students[i].seed = (unsigned)time(NULL) ^ (unsigned)getpid() ^
		    (unsigned)(i * 2654435761u);
		if ((students[i].reply = malloc(LOAD_HEAD_MAX + LOAD_REPLY_MAX + 1)) == NULL) {
			fprintf(stderr, "bench-load: out of memory for %zu students\n", n);
			goto fail;
		}
	}
	for (created = 0; created < n; created++)
		if ((errno = pthread_create(&students[created].thread, &attr, load_student,
		    &students[created])) != 0) {
			fprintf(stderr, "bench-load: cannot start student %zu of %zu: %s\n",
			    created + 1, n, strerror(errno));
			break;
		}
	load_open_gate(&load, created == n ? 1 : -1);
	for (i = 0; i < created; i++)
		pthread_join(students[i].thread, NULL);
	if (created < n)
		goto fail;
	if (fflush(stdout) != 0 || ferror(stdout)) {
		fprintf(stderr, "bench-load: cannot write the results: %s\n", strerror(errno));
		goto fail;
	}
	rc = 0;
fail:
	for (i = 0; students && i < n; i++)
		free(students[i].reply);
	free(students);
	free(load.upload);
	free(source);
	pthread_attr_destroy(&attr);
	pthread_cond_destroy(&load.go);
	pthread_mutex_destroy(&load.gate);
	pthread_mutex_destroy(&load.out);
	return rc;
}
