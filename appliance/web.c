#include "web.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <dlfcn.h>
#include <errno.h>
#include <link.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "api.h"
#include "json.h"
#include "term.h"

/* What the guard knows of the connection one worker thread serves (a
 * worker serves one at a time): whether it counts against its address, and
 * the deadline it is under. At its deadline the guard shuts its socket down
 * (`how`: SHUT_RD ends a body being read, SHUT_RDWR a connection refused),
 * so that the worker, blocked reading it, returns. */
enum web_wait {
	WAIT_NONE,
	WAIT_REQUEST,	/* for the request to arrive: counted at its deadline */
	WAIT_BODY,	/* for the whole body to arrive */
};

struct web_slot {
	const struct mg_connection *conn;
	int counted;		/* one of `addr`'s connections */
	int refused;		/* came over `addr`'s limit */
	struct in_addr addr;
	enum web_wait wait;
	int due;		/* past its deadline, to be cut */
	int fired;		/* its deadline has passed */
	int how;
	struct timespec deadline;	/* CLOCK_MONOTONIC */
	struct sockaddr_in peer;	/* the socket, found by its two ends */
	in_port_t local_port;
};

/* What a worker thread keeps: its database connection and its slot. */
struct web_thread {
	struct store *store;
	struct web_slot *slot;		/* NULL when there were none left */
};

/* Connections held by one address (an entry is free at 0). */
struct web_addr {
	struct in_addr addr;
	unsigned conns;
};

struct web {
	struct mg_context *ctx;
	struct web_config cfg;
	struct sockaddr_in self;	/* where to reach our own listener */
	atomic_int stopped;		/* mg_stop() has returned */
	unsigned threads;
	/* The guard: slots and per-address counts, under guard_lock. A worker
	 * counts at most one connection, so `threads` entries of each are
	 * enough. */
	pthread_mutex_t guard_lock;
	pthread_cond_t guard_wake;
	pthread_t guard;
	int guard_running, guard_stop;
	struct web_slot *slots;
	atomic_uint next_slot;
	struct web_addr *addrs;
};

/* On every response: no script but ours, never framed, no MIME sniffing. */
static const char default_csp[] =
    "default-src 'self'; script-src 'self'; style-src 'self'; "
    "img-src 'self' data:; object-src 'none'; base-uri 'none'; form-action 'self'; "
    "frame-ancestors 'none'";
static const char security_headers[] =
    "X-Content-Type-Options: nosniff\r\n"
    "X-Frame-Options: DENY\r\n"
    "Referrer-Policy: no-referrer\r\n";

static const char *reason(int status);

/* The status line and the headers every reply has. */
static void
reply_head(struct web_request *r, int status, const char *type, size_t len, const char *extra)
{
	mg_printf(r->conn, "HTTP/1.1 %d %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\n"
	    "Content-Security-Policy: %s\r\n%sCache-Control: %s\r\n%s\r\n", status,
	    reason(status), type, len, r->csp ? r->csp : default_csp, security_headers,
	    r->cache ? r->cache : "no-store", extra ? extra : "");
}

static const char *
reason(int status)
{
	switch (status) {
	case 200: return "OK";
	case 202: return "Accepted";
	case 400: return "Bad Request";
	case 401: return "Unauthorized";
	case 403: return "Forbidden";
	case 404: return "Not Found";
	case 405: return "Method Not Allowed";
	case 408: return "Request Timeout";
	case 413: return "Payload Too Large";
	case 415: return "Unsupported Media Type";
	case 422: return "Unprocessable Entity";
	case 429: return "Too Many Requests";
	case 503: return "Service Unavailable";
	case 507: return "Insufficient Storage";
	default: return status >= 500 ? "Internal Server Error" : "OK";
	}
}

void
web_reply(struct web_request *r, int status, const char *type, const void *body, size_t len,
    const char *extra)
{
	reply_head(r, status, type, len, extra);
	if (len > 0 && strcmp(r->method, "HEAD") != 0)
		mg_write(r->conn, body, len);
}

int
web_reply_file(struct web_request *r, const char *type, int fd, size_t len, const char *extra)
{
	size_t sent = 0;
	char *buf;
	int rc = -1;

	/* On the heap: civetweb's worker threads have small stacks. */
	if ((buf = malloc(WEB_FILE_CHUNK)) == NULL)
		return -1;
	reply_head(r, 200, type, len, extra);
	if (strcmp(r->method, "HEAD") == 0)
		len = 0;
	while (sent < len) {
		ssize_t n = pread(fd, buf, len - sent < WEB_FILE_CHUNK ? len - sent : WEB_FILE_CHUNK,
		    (off_t)sent);

		if (n <= 0 || mg_write(r->conn, buf, (size_t)n) <= 0)
			goto fail;
		sent += (size_t)n;
	}
	rc = 0;
fail:
	free(buf);
	return rc;
}

void
web_reply_json(struct web_request *r, int status, cJSON *doc)
{
	char *text = doc ? cJSON_PrintUnformatted(doc) : NULL;

	cJSON_Delete(doc);
	if (text == NULL) {
		static const char oom[] = "{\"error\": \"The server is out of memory. Try again "
		    "in a minute.\"}";

		web_reply(r, 500, "application/json", oom, sizeof oom - 1, NULL);
		return;
	}
	web_reply(r, status, "application/json", text, strlen(text), NULL);
	free(text);
}

void
web_error(struct web_request *r, int status, const char *extra, const char *fmt, ...)
{
	char msg[1024], *text;
	cJSON *doc;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	doc = cJSON_CreateObject();
	cJSON_AddStringToObject(doc, "error", msg);
	text = cJSON_PrintUnformatted(doc);
	cJSON_Delete(doc);
	web_reply(r, status, "application/json", text ? text : "{}", text ? strlen(text) : 2,
	    extra);
	free(text);
}

/* The socket ends of the connection `ri` describes. Returns 0, or -1 when
 * its address is not IPv4 (civetweb as Debian builds it serves no other). */
static int
conn_ends(const struct mg_request_info *ri, struct sockaddr_in *peer, in_port_t *local_port)
{
	memset(peer, 0, sizeof *peer);
	peer->sin_family = AF_INET;
	peer->sin_port = htons((uint16_t)ri->remote_port);
	*local_port = htons((uint16_t)ri->server_port);
	return inet_pton(AF_INET, ri->remote_addr, &peer->sin_addr) == 1 ? 0 : -1;
}

static void
deadline_in(struct timespec *t, long ms)
{
	clock_gettime(CLOCK_MONOTONIC, t);
	t->tv_sec += ms / 1000;
	t->tv_nsec += ms % 1000 * 1000000;
	if (t->tv_nsec >= 1000000000) {
		t->tv_sec++;
		t->tv_nsec -= 1000000000;
	}
}

static int
before(const struct timespec *a, const struct timespec *b)
{
	return a->tv_sec < b->tv_sec || (a->tv_sec == b->tv_sec && a->tv_nsec < b->tv_nsec);
}

/* Count one more (`delta` 1) or one less (-1) connection from `addr`.
 * Returns how many it holds now. Called with guard_lock held. */
static unsigned
addr_count(struct web *w, struct in_addr addr, int delta)
{
	struct web_addr *free_entry = NULL;

	for (unsigned i = 0; i < w->threads; i++) {
		struct web_addr *a = &w->addrs[i];

		if (a->conns > 0 && a->addr.s_addr == addr.s_addr) {
			a->conns += (unsigned)delta;
			return a->conns;
		}
		if (a->conns == 0 && free_entry == NULL)
			free_entry = a;
	}
	if (delta < 0 || free_entry == NULL)
		return 0;
	free_entry->addr = addr;
	free_entry->conns = 1;
	return 1;
}

/* Count the connection of `slot`, from `ri`, against its address, once.
 * Returns 1 when that takes the address over its limit (the connection is
 * then refused), else 0. Called with guard_lock held. */
static int
slot_count(struct web *w, struct web_slot *slot, const struct mg_request_info *ri)
{
	unsigned n;

	if (!slot->counted && conn_ends(ri, &slot->peer, &slot->local_port) == 0 &&
	    (n = addr_count(w, slot->peer.sin_addr, 1)) > 0) {
		slot->counted = 1;
		slot->addr = slot->peer.sin_addr;
		slot->refused = n > WEB_ADDRESS_CONNS;
	}
	return slot->refused;
}

/* Put this worker's body read (on `ri`'s connection) under a deadline `ms`
 * from now. */
static void
watch_body(struct web *w, struct web_slot *slot, const struct mg_request_info *ri, long ms)
{
	if (slot == NULL)
		return;
	pthread_mutex_lock(&w->guard_lock);
	if (conn_ends(ri, &slot->peer, &slot->local_port) == 0) {
		deadline_in(&slot->deadline, ms);
		slot->how = SHUT_RD;
		slot->wait = WAIT_BODY;
		slot->due = slot->fired = 0;
		pthread_cond_signal(&w->guard_wake);
	}
	pthread_mutex_unlock(&w->guard_lock);
}

/* End this worker's wait. Returns 1 when its deadline had passed (and the
 * connection was cut), else 0. Once it returns, the guard no longer touches
 * the socket, which civetweb may then close. */
static int
watch_end(struct web *w, struct web_slot *slot)
{
	int fired;

	if (slot == NULL)
		return 0;
	pthread_mutex_lock(&w->guard_lock);
	fired = slot->wait != WAIT_NONE && slot->fired;
	slot->wait = WAIT_NONE;
	slot->due = slot->fired = 0;
	pthread_mutex_unlock(&w->guard_lock);
	return fired;
}

/* Shut down the socket of every slot that is due. civetweb keeps a
 * connection's descriptor to itself, so each is found by its two ends among
 * the process's open descriptors; its worker cannot close it meanwhile, as
 * watch_end() and connection_close() wait for guard_lock. Called with
 * guard_lock held. */
static void
cut_due(struct web *w)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *e = NULL;
	int fd = -1;

	while (d ? (e = readdir(d)) != NULL : ++fd < WEB_FD_SCAN_MAX) {
		struct sockaddr_in local, peer;
		socklen_t llen = sizeof local, plen = sizeof peer;

		if (d && (e->d_name[0] < '0' || e->d_name[0] > '9' ||
		    (fd = atoi(e->d_name)) == dirfd(d)))
			continue;
		if (getsockname(fd, (struct sockaddr *)&local, &llen) < 0 ||
		    local.sin_family != AF_INET ||
		    getpeername(fd, (struct sockaddr *)&peer, &plen) < 0)
			continue;
		for (unsigned i = 0; i < w->threads; i++) {
			struct web_slot *slot = &w->slots[i];

			if (slot->due && slot->local_port == local.sin_port &&
			    slot->peer.sin_port == peer.sin_port &&
			    slot->peer.sin_addr.s_addr == peer.sin_addr.s_addr) {
				(void)shutdown(fd, slot->how);
				slot->due = 0;
			}
		}
	}
	if (d)
		closedir(d);
	/* Not found: the connection is gone, which is what the cut wanted. */
	for (unsigned i = 0; i < w->threads; i++)
		w->slots[i].due = 0;
}

/* A slot whose deadline has passed. A connection still waiting for its
 * request counts against its address from now on (its worker is held as
 * much as by one that sent it), and is cut when that is over the limit. A
 * body that has not arrived whole is cut. Returns 1 when there is something
 * to cut. Called with guard_lock held. */
static int
expire(struct web *w, struct web_slot *slot)
{
	const struct mg_request_info *ri;

	slot->fired = 1;
	if (slot->wait == WAIT_BODY) {
		slot->due = 1;
		return 1;
	}
	/* The worker is inside this connection (connection_close() ends the
	 * wait first), so what civetweb filled in before init_connection()
	 * stays as it was. */
	if ((ri = mg_get_request_info(slot->conn)) == NULL || !slot_count(w, slot, ri)) {
		slot->wait = WAIT_NONE;
		return 0;
	}
	slot->how = SHUT_RDWR;
	slot->due = 1;
	return 1;
}

/* The guard thread: sleeps until the next deadline, then deals with what is
 * due; at most one search for sockets every WEB_GUARD_TICK_MS, however many
 * deadlines pass. */
static void *
guard_run(void *arg)
{
	struct web *w = arg;
	struct timespec last = { 0, 0 };

	pthread_mutex_lock(&w->guard_lock);
	while (!w->guard_stop) {
		struct timespec now, next, tick = last;
		int due = 0;

		clock_gettime(CLOCK_MONOTONIC, &now);
		tick.tv_nsec += WEB_GUARD_TICK_MS * 1000000L;
		if (tick.tv_nsec >= 1000000000) {
			tick.tv_sec++;
			tick.tv_nsec -= 1000000000;
		}
		next = now;
		next.tv_sec += 1;
		for (unsigned i = 0; i < w->threads && !before(&now, &tick); i++) {
			struct web_slot *slot = &w->slots[i];

			if (slot->wait != WAIT_NONE && !slot->fired && !before(&now, &slot->deadline))
				due |= expire(w, slot);
		}
		if (due) {
			cut_due(w);
			last = now;
		}
		for (unsigned i = 0; i < w->threads; i++) {
			struct web_slot *slot = &w->slots[i];

			if (slot->wait != WAIT_NONE && !slot->fired && before(&slot->deadline, &next))
				next = slot->deadline;
		}
		if (before(&next, &tick))
			next = tick;
		pthread_cond_timedwait(&w->guard_wake, &w->guard_lock, &next);
	}
	pthread_mutex_unlock(&w->guard_lock);
	return NULL;
}

/* A worker takes a new connection: it must send its request within
 * WEB_REQUEST_GRACE_MS, or count against its address from then on.
 * (civetweb has not filled in the request's information yet, so the
 * connection is counted at its request, or by the guard.) */
static int
init_connection(const struct mg_connection *conn, void **conn_data)
{
	struct web *w = mg_get_user_data(mg_get_context(conn));
	struct web_thread *t = mg_get_thread_pointer(conn);
	struct web_slot *slot = t ? t->slot : NULL;

	*conn_data = NULL;
	if (slot == NULL)
		return 0;
	pthread_mutex_lock(&w->guard_lock);
	slot->conn = conn;
	slot->counted = slot->refused = 0;
	deadline_in(&slot->deadline, WEB_REQUEST_GRACE_MS);
	slot->wait = WAIT_REQUEST;
	slot->due = slot->fired = 0;
	pthread_cond_signal(&w->guard_wake);
	pthread_mutex_unlock(&w->guard_lock);
	return 0;
}

/* The request's headers have arrived. Returns 1 when the connection is one
 * too many for its address, else 0. */
static int
request_arrived(struct web *w, struct web_slot *slot, const struct mg_request_info *ri)
{
	int refused;

	if (slot == NULL)
		return 0;
	pthread_mutex_lock(&w->guard_lock);
	if (slot->wait == WAIT_REQUEST) {
		slot->wait = WAIT_NONE;
		slot->due = slot->fired = 0;
	}
	refused = slot_count(w, slot, ri);
	pthread_mutex_unlock(&w->guard_lock);
	return refused;
}

/* civetweb closes a connection: it no longer counts. */
static void
connection_close(const struct mg_connection *conn)
{
	struct web *w = mg_get_user_data(mg_get_context(conn));
	struct web_thread *t = mg_get_thread_pointer(conn);
	struct web_slot *slot = t ? t->slot : NULL;

	if (slot == NULL)
		return;
	pthread_mutex_lock(&w->guard_lock);
	slot->wait = WAIT_NONE;
	slot->due = slot->fired = 0;
	if (slot->counted)
		addr_count(w, slot->addr, -1);
	slot->counted = slot->refused = 0;
	slot->conn = NULL;
	pthread_mutex_unlock(&w->guard_lock);
}

int
web_read_body(struct web_request *r, size_t max, char **body, size_t *len)
{
	struct web *w = mg_get_user_data(mg_get_context(r->conn));
	struct web_thread *t = mg_get_thread_pointer(r->conn);
	size_t cap = 0, used = 0;
	char *buf = NULL;
	int rc = -1;

	*body = NULL;
	*len = 0;
	if (r->ri->content_length > (long long)max)
		return WEB_ETOOBIG;
	r->body_deadline_s = max <= WEB_BODY_SMALL_MAX ? WEB_BODY_SMALL_S : WEB_BODY_LARGE_S;
	watch_body(w, t ? t->slot : NULL, r->ri, 1000L * r->body_deadline_s);
	for (;;) {
		int n;

		if (cap - used < 16384) {
			size_t want = cap ? 2 * cap : 65536;
			char *grown;

			if (want > max + 16385)
				want = max + 16385;
			if (want <= cap) {
				rc = WEB_ETOOBIG;
				goto fail;
			}
			if ((grown = realloc(buf, want)) == NULL)
				goto fail;
			buf = grown;
			cap = want;
		}
		n = mg_read(r->conn, buf + used, cap - used - 1);
		if (n < 0)
			goto fail;
		if (n == 0)
			break;
		used += (size_t)n;
		if (used > max) {
			rc = WEB_ETOOBIG;
			goto fail;
		}
	}
	buf = buf ? buf : malloc(1);
	if (buf == NULL)
		goto fail;
	if (watch_end(w, t ? t->slot : NULL)) {
		rc = WEB_ELATE;	/* what arrived before the cut is not the body */
		goto fail;
	}
	buf[used] = '\0';
	*body = buf;
	*len = used;
	return 0;
fail:
	if (watch_end(w, t ? t->slot : NULL))
		rc = WEB_ELATE;
	free(buf);
	return rc;
}

int
web_body_error(struct web_request *r, int rc, const char *too_big, const char *incomplete)
{
	if (rc == WEB_ETOOBIG) {
		web_error(r, 413, "Connection: close\r\n", "%s", too_big);
		return 413;
	}
	if (rc == WEB_ELATE) {
		mg_disable_connection_keep_alive(r->conn);
		web_error(r, 408, "Connection: close\r\n", "The request took more than %d s to "
		    "arrive. Check the network connection and try again.", r->body_deadline_s);
		return 408;
	}
	web_error(r, 400, NULL, "%s", incomplete);
	return 400;
}

int
web_parse_json(struct web_request *r, const char *body, size_t len, cJSON **doc)
{
	int too_deep;

	if ((*doc = json_parse(body, len, &too_deep, NULL)) == NULL && too_deep) {
		web_error(r, 400, NULL, "The request is nested more than %d levels deep. Send "
		    "one JSON object of plain values, as markbook's pages do.", JSON_DEPTH_MAX);
		return 400;
	}
	return 0;
}

int
web_read_json_body(struct web_request *r, size_t max, const char *not_json,
    const char *too_big, char **body, size_t *len, cJSON **doc)
{
	const char *ctype = web_header(r, "Content-Type");
	int rc;

	*doc = NULL;
	/* A JSON content type cannot be sent cross-site without a preflight. */
	if (ctype == NULL || strncasecmp(ctype, "application/json", 16) != 0) {
		web_error(r, 415, NULL, "%s", not_json);
		return 415;
	}
	if ((rc = web_read_body(r, max, body, len)) < 0)
		return web_body_error(r, rc, too_big, too_big);
	if ((rc = web_parse_json(r, *body, *len, doc)) != 0) {
		explicit_bzero(*body, *len);	/* it may hold a password */
		free(*body);
		*body = NULL;
	}
	return rc;
}

static const char *
find_bytes(const char *hay, size_t hlen, const char *needle, size_t nlen)
{
	return memmem(hay, hlen, needle, nlen);
}

int
web_multipart_field(const char *ctype, const char *body, size_t len, const char *name,
    const char **value, size_t *vlen)
{
	char delim[256], want[WEB_FIELD_MAX + 32];
	const char *b, *p, *end = body + len;
	size_t blen, dlen;

	if (ctype == NULL || strncasecmp(ctype, "multipart/form-data", 19) != 0 ||
	    (b = strstr(ctype, "boundary=")) == NULL)
		return -1;
	b += 9;
	if (*b == '"')
		b++;
	blen = strcspn(b, "\";, \t");
	if (blen == 0 || blen > 200)
		return -1;
	dlen = (size_t)snprintf(delim, sizeof delim, "\r\n--%.*s", (int)blen, b);
	snprintf(want, sizeof want, "name=\"%s\"", name);
	/* The body starts with the delimiter without its CRLF. */
	if (len < dlen - 2 || memcmp(body, delim + 2, dlen - 2) != 0)
		return -1;
	p = body + dlen - 2;
	while (p < end) {
		const char *headers, *hend, *data, *next;

		if (end - p >= 2 && p[0] == '-' && p[1] == '-')
			return -1;	/* the closing delimiter */
		if (end - p < 2 || p[0] != '\r' || p[1] != '\n')
			return -1;
		headers = p + 2;
		if ((hend = find_bytes(headers, (size_t)(end - headers), "\r\n\r\n", 4)) == NULL)
			return -1;
		data = hend + 4;
		if ((next = find_bytes(data, (size_t)(end - data), delim, dlen)) == NULL)
			return -1;
		{
			/* Match the name in this part's Content-Disposition only. */
			const char *nm = find_bytes(headers, (size_t)(hend - headers), want,
			    strlen(want));

			if (nm != NULL && (nm == headers || nm[-1] == ' ' || nm[-1] == ';')) {
				*value = data;
				*vlen = (size_t)(next - data);
				return 0;
			}
		}
		p = next + dlen;
	}
	return -1;
}

const char *
web_header(struct web_request *r, const char *name)
{
	return mg_get_header(r->conn, name);
}

int
web_cookie(struct web_request *r, const char *name, char *out, size_t outlen)
{
	const char *h = mg_get_header(r->conn, "Cookie");

	return h && mg_get_cookie(h, name, out, outlen) >= 0 ? 0 : -1;
}

int
web_query(struct web_request *r, const char *name, char *out, size_t outlen)
{
	const char *q = r->ri->query_string;

	return q && mg_get_var(q, strlen(q), name, out, outlen) >= 0 ? 0 : -1;
}

static int
begin_request(struct mg_connection *conn)
{
	struct web *w = mg_get_user_data(mg_get_context(conn));
	struct web_thread *t = mg_get_thread_pointer(conn);
	struct web_request r;

	memset(&r, 0, sizeof r);
	r.conn = conn;
	r.ri = mg_get_request_info(conn);
	r.store = t ? t->store : NULL;
	r.queue = w->cfg.queue;
	r.method = r.ri->request_method;
	r.path = r.ri->local_uri ? r.ri->local_uri : "/";
	if (request_arrived(w, t ? t->slot : NULL, r.ri)) {
		/* Answered at once, and closed, so the thread is free again. */
		mg_disable_connection_keep_alive(conn);
		web_error(&r, 503, "Retry-After: 5\r\nConnection: close\r\n", "This computer has "
		    "%d connections open to markbook already, the most one computer may hold. "
		    "Close other markbook tabs or browsers, then reload the page.",
		    WEB_ADDRESS_CONNS);
		return 503;
	}
	if (r.store == NULL) {
		web_error(&r, 503, NULL, "The server cannot reach its database. Tell your "
		    "teacher; try again in a minute.");
		return 503;
	}
	return api_handle(&r);
}

static void *
init_thread(const struct mg_context *ctx, int thread_type)
{
	struct web *w = mg_get_user_data(ctx);
	struct web_thread *t;
	unsigned i;
	char err[512];

	if (thread_type != 1)
		return NULL;
	if ((t = calloc(1, sizeof *t)) == NULL) {
		fprintf(stderr, "markbook: a web thread is out of memory.\n");
		return NULL;
	}
	if ((i = atomic_fetch_add(&w->next_slot, 1)) < w->threads)
		t->slot = &w->slots[i];
	if ((t->store = store_open(w->cfg.db_path, err, sizeof err)) == NULL)
		fprintf(stderr, "markbook: a web thread cannot open the database: %s\n",
		    term_safe(err));
	return t;
}

static void
exit_thread(const struct mg_context *ctx, int thread_type, void *pointer)
{
	struct web_thread *t = pointer;

	(void)ctx;
	if (thread_type != 1 || t == NULL)
		return;
	store_close(t->store);
	free(t);
}

static int
log_message(const struct mg_connection *conn, const char *message)
{
	(void)conn;
	/* civetweb's messages quote what clients sent (a request line, a
	 * header): inert on the teacher's console. */
	fprintf(stderr, "markbook: web: %s\n", term_safe(message));
	return 1;
}

/* Debian's civetweb 1.15 loads OpenSSL with dlopen and looks up
 * SSL_get_peer_certificate, which OpenSSL 3 no longer exports (it became a
 * macro for SSL_get1_peer_certificate); civetweb then calls the NULL it found
 * on every HTTPS connection. tls_fill_gap() finds that entry of civetweb's
 * table of OpenSSL functions (a pointer to the name, then the function
 * pointer, NULL) in civetweb's writable data and fills it in. */
static void *(*tls_get1_peer)(const void *ssl);

static void *
tls_get_peer_certificate(const void *ssl)
{
	return tls_get1_peer(ssl);
}

static int
tls_patch_object(struct dl_phdr_info *info, size_t size, void *arg)
{
	static const char name[] = "SSL_get_peer_certificate";
	int *patched = arg;

	(void)size;
	if (strstr(info->dlpi_name, "libcivetweb") == NULL)
		return 0;
	for (int i = 0; i < info->dlpi_phnum; i++) {
		const ElfW(Phdr) *ro = &info->dlpi_phdr[i];
		const char *base, *at;
		size_t len;

		if (ro->p_type != PT_LOAD || (ro->p_flags & PF_W))
			continue;
		base = (const char *)(info->dlpi_addr + ro->p_vaddr);
		len = ro->p_memsz;
		for (at = base; (at = memmem(at, len - (size_t)(at - base), name,
		    sizeof name)) != NULL; at++) {
			if (at > base && at[-1] != '\0')
				continue;	/* the end of a longer name */
			for (int k = 0; k < info->dlpi_phnum; k++) {
				const ElfW(Phdr) *rw = &info->dlpi_phdr[k];
				void **w, **end;

				if (rw->p_type != PT_LOAD || !(rw->p_flags & PF_W))
					continue;
				w = (void **)(info->dlpi_addr + rw->p_vaddr);
				end = w + rw->p_filesz / sizeof *w - 3;
				/* struct ssl_func { name; int required; ptr; } */
				for (; w < end; w++)
					if (*w == at && w[1] == NULL && w[2] == NULL) {
						w[2] = (void *)tls_get_peer_certificate;
						(*patched)++;
					}
			}
		}
	}
	return 1;
}

/* Make civetweb's OpenSSL safe to use, once mg_start2() has loaded it (and
 * before any student knows the address). Returns 0, or -1 with a sentence in
 * `err`. */
static int
tls_fill_gap(char *err, size_t errlen)
{
	void *ssl;
	int patched = 0;

	if ((ssl = dlopen("libssl.so", RTLD_LAZY | RTLD_NOLOAD)) == NULL ||
	    (tls_get1_peer = (void *(*)(const void *))dlsym(ssl, "SSL_get1_peer_certificate")) ==
	    NULL || dlsym(ssl, "SSL_get_peer_certificate") != NULL)
		return 0;	/* an OpenSSL that civetweb can use as it is */
	dl_iterate_phdr(tls_patch_object, &patched);
	if (patched != 1) {
		snprintf(err, errlen, "civetweb cannot use this OpenSSL 3 (found %d places to "
		    "fix instead of 1); serve without --tls", patched);
		return -1;
	}
	return 0;
}

/* Make the tables of slots and addresses and start the guard thread.
 * Returns 0, or -1 with errno set. */
static int
guard_start(struct web *w)
{
	pthread_condattr_t attr;
	int rc;

	w->slots = calloc(w->threads, sizeof *w->slots);
	w->addrs = calloc(w->threads, sizeof *w->addrs);
	if (w->slots == NULL || w->addrs == NULL)
		goto fail;
	pthread_mutex_init(&w->guard_lock, NULL);
	pthread_condattr_init(&attr);
	pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);	/* deadlines are monotonic */
	pthread_cond_init(&w->guard_wake, &attr);
	pthread_condattr_destroy(&attr);
	if ((rc = pthread_create(&w->guard, NULL, guard_run, w)) != 0) {
		pthread_cond_destroy(&w->guard_wake);
		pthread_mutex_destroy(&w->guard_lock);
		errno = rc;
		goto fail;
	}
	w->guard_running = 1;
	return 0;
fail:
	free(w->slots);
	free(w->addrs);
	return -1;
}

/* Stop the guard thread and free what guard_start() made. */
static void
guard_stop(struct web *w)
{
	if (!w->guard_running)
		return;
	pthread_mutex_lock(&w->guard_lock);
	w->guard_stop = 1;
	pthread_cond_signal(&w->guard_wake);
	pthread_mutex_unlock(&w->guard_lock);
	pthread_join(w->guard, NULL);
	pthread_cond_destroy(&w->guard_wake);
	pthread_mutex_destroy(&w->guard_lock);
	free(w->slots);
	free(w->addrs);
	w->guard_running = 0;
}

struct web *
web_start(const struct web_config *cfg, char *err, size_t errlen)
{
	struct mg_callbacks cb;
	struct mg_init_data init;
	struct mg_error_data error;
	char threads[16], ports[300], errtext[256] = "";
	unsigned errcode = 0;
	const char *options[] = {
		"listening_ports", ports,
		"num_threads", threads,
		"enable_directory_listing", "no",
		"enable_keep_alive", "yes",
		/* A client has this long to send its headers (and each read of a
		 * body), so a slow one holds a thread for 10 s, not forever. */
		"request_timeout_ms", WEB_REQUEST_TIMEOUT_MS,
		"keep_alive_timeout_ms", "5000",
		/* A reply goes out in several writes (headers, then the body);
		 * with Nagle on, the later ones waited for the browser's delayed
		 * ACK: 40 ms a request on a kept-alive connection from Linux, up
		 * to 200 ms from Windows. */
		"tcp_nodelay", "1",
		"listen_backlog", WEB_LISTEN_BACKLOG,
		"ssl_protocol_version", "4",	/* TLS 1.2 and later */
		cfg->tls_cert ? "ssl_certificate" : NULL, cfg->tls_cert,
		NULL, NULL,
	};
	struct web *w;

	if ((w = calloc(1, sizeof *w)) == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	w->cfg = *cfg;
	/* civetweb serves HTTPS on a port whose name ends in "s". */
	snprintf(ports, sizeof ports, "%s%s", cfg->listen, cfg->tls_cert ? "s" : "");
	snprintf(threads, sizeof threads, "%u", cfg->threads ? cfg->threads : WEB_THREADS_DEFAULT);
	w->threads = cfg->threads ? cfg->threads : WEB_THREADS_DEFAULT;
	if (guard_start(w) < 0) {
		snprintf(err, errlen, "cannot start the connection guard: %s", strerror(errno));
		free(w);
		return NULL;
	}
	memset(&cb, 0, sizeof cb);
	cb.begin_request = begin_request;
	cb.init_thread = init_thread;
	cb.exit_thread = exit_thread;
	cb.init_connection = init_connection;
	cb.connection_close = connection_close;
	cb.log_message = log_message;
	memset(&init, 0, sizeof init);
	init.callbacks = &cb;
	init.user_data = w;
	init.configuration_options = options;
	memset(&error, 0, sizeof error);
	error.code = &errcode;
	error.text = errtext;
	error.text_buffer_size = sizeof errtext;
	if ((w->ctx = mg_start2(&init, &error)) == NULL) {
		snprintf(err, errlen, "cannot listen on %s: %s. Is another markbook running? "
		    "Choose another port with --listen.", cfg->listen,
		    errtext[0] ? errtext : "unknown error");
		guard_stop(w);
		free(w);
		return NULL;
	}
	if (cfg->tls_cert && tls_fill_gap(errtext, sizeof errtext) < 0) {
		snprintf(err, errlen, "cannot serve HTTPS: %s.", errtext);
		web_stop(w);
		return NULL;
	}
	return w;
}

int
web_parse_listen(const char *listen, struct sockaddr_in *addr)
{
	const char *colon = strrchr(listen, ':');
	const char *port = colon ? colon + 1 : listen;
	char host[INET_ADDRSTRLEN];
	char *end;
	long n;

	memset(addr, 0, sizeof *addr);
	addr->sin_family = AF_INET;
	if (colon) {
		if ((size_t)(colon - listen) >= sizeof host)
			return -1;
		memcpy(host, listen, (size_t)(colon - listen));
		host[colon - listen] = '\0';
		if (inet_pton(AF_INET, host, &addr->sin_addr) != 1)
			return -1;
	}
	/* Digits only: civetweb reads a trailing "s" or "r" as options. */
	if (*port < '0' || *port > '9')
		return -1;
	errno = 0;
	n = strtol(port, &end, 10);
	if (errno || *end != '\0' || n < 1 || n > 65535)
		return -1;
	addr->sin_port = htons((uint16_t)n);
	return 0;
}

/* Where a connection to ourselves goes: the listen address, or loopback when
 * it is every address. Returns 1 with w->self set, 0 when there is none. */
static int
find_self(struct web *w)
{
	if (web_parse_listen(w->cfg.listen, &w->self) < 0)
		return 0;
	if (w->self.sin_addr.s_addr == htonl(INADDR_ANY))
		w->self.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	return 1;
}

/* civetweb's listening thread reads its stop flag only between waits of up to
 * 2 s for a new connection; connecting to it ends the wait, so a stop (Ctrl-C,
 * and every test server) takes milliseconds rather than up to 2 s. Connects
 * until mg_stop() has returned; each connection is closed unused. */
static void *
nudge(void *arg)
{
	struct web *w = arg;
	int fd;

	while (!atomic_load(&w->stopped)) {
		if ((fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) >= 0) {
			(void)connect(fd, (const struct sockaddr *)&w->self, sizeof w->self);
			close(fd);
		}
		usleep(WEB_NUDGE_US);
	}
	return NULL;
}

void
web_stop(struct web *w)
{
	pthread_t t;
	int nudging;

	if (w == NULL)
		return;
	nudging = find_self(w) && pthread_create(&t, NULL, nudge, w) == 0;
	mg_stop(w->ctx);
	atomic_store(&w->stopped, 1);
	if (nudging)
		pthread_join(t, NULL);
	guard_stop(w);
	free(w);
}
