#ifndef MARKBOOK_WEB_H
#define MARKBOOK_WEB_H

#include <civetweb.h>
#include <cjson/cJSON.h>
#include <netinet/in.h>
#include <stddef.h>

#include "auth.h"
#include "queue.h"
#include "store.h"

/* The HTTP side: civetweb start-up, one database connection per web thread,
 * reading bounded request bodies, and replies that always carry the security
 * headers. What each URL does is in api.c. */

/* civetweb holds a thread per connection (keep-alive too): enough for a
 * class's browsers with 200 slow or idle connections from an attacker on top. */
#define WEB_THREADS_DEFAULT	384
#define WEB_THREADS_MIN		8	/* a few browsers and the teacher */
#define WEB_THREADS_MAX		4096
#define WEB_REQUEST_TIMEOUT_MS	"10000"	/* headers; and each read of a body */
/* A whole body must arrive within this, or the connection is cut (408): a
 * read timeout bounds each read only, and a client sending a byte every few
 * seconds would hold its thread for ever. */
#define WEB_BODY_SMALL_MAX	65536	/* logins and small JSON: ... */
#define WEB_BODY_SMALL_S	10	/* ... this long */
#define WEB_BODY_LARGE_S	60	/* uploads and rosters */
/* Connections one address may hold at once: two browsers (Chromium and
 * Firefox open 6 per host each) and some to spare. A connection counts from
 * its request, or from WEB_REQUEST_GRACE_MS after it opened if its request
 * has not arrived by then; the one over the limit is answered 503 at once,
 * or cut, so its thread is free again. The teacher's address is no
 * exception. */
#define WEB_ADDRESS_CONNS	16
#define WEB_REQUEST_GRACE_MS	1000
#define WEB_GUARD_TICK_MS	100	/* cuts are batched this often at most */
#define WEB_FD_SCAN_MAX		65536	/* descriptors tried without /proc */
#define WEB_LISTEN_BACKLOG	"1024"	/* a burst of connections waits, not refused */
#define WEB_COOKIE		"markbook_session"
#define WEB_FIELD_MAX		256	/* a form field that is not the notebook */
#define WEB_FILE_CHUNK		65536	/* read and sent at a time by web_reply_file() */
#define WEB_NUDGE_US		20000	/* between connections that wake a stopping listener */

struct web_config {
	const char *listen;		/* ADDR:PORT or PORT: web_parse_listen() */
	const char *db_path;
	unsigned threads;
	struct queue *queue;
	const char *tls_cert;		/* PEM with the key and certificate, or NULL */
};

/* One request, as api.c sees it. */
struct web_request {
	struct mg_connection *conn;
	const struct mg_request_info *ri;
	struct store *store;		/* this thread's connection */
	struct queue *queue;
	const char *method;
	const char *path;		/* decoded, without the query */
	int logged_in;
	struct store_user user;
	char csrf[STORE_TOKEN_MAX + 1];
	char token_hash[AUTH_TOKEN_HEX + 1];
	const char *csp;		/* replaces the Content-Security-Policy, or NULL */
	const char *cache;		/* replaces "Cache-Control: no-store", or NULL */
	int body_deadline_s;		/* web_read_body()'s, for its 408 */
};

struct web;

/* Start serving on cfg->listen. Returns NULL with a sentence in `err` when
 * the address cannot be used. Stop with web_stop(). */
struct web *web_start(const struct web_config *cfg, char *err, size_t errlen);

/* Stop accepting, finish the requests in progress, free `w`. */
void web_stop(struct web *w);

/* Read a --listen value: PORT (every address) or IPV4:PORT, the port 1 to
 * 65535 in digits. Returns 0 with `addr` set, -1 for anything else (civetweb
 * as Debian builds it serves IPv4 only). */
int web_parse_listen(const char *listen, struct sockaddr_in *addr);

/* Send `len` bytes of `body` with `status`, `type` and the security headers;
 * `extra` is more header lines ending in CRLF, or NULL. */
void web_reply(struct web_request *r, int status, const char *type, const void *body,
    size_t len, const char *extra);

/* Send `doc` as JSON and free it. */
void web_reply_json(struct web_request *r, int status, cJSON *doc);

/* Send the `len` bytes of the open file `fd` (read from its start) as
 * web_reply() sends a buffer; a file too large for memory goes out in pieces.
 * Returns 0, or -1 when the file could not be read (the reply is then cut
 * short: the client sees an incomplete download). `fd` stays open. */
int web_reply_file(struct web_request *r, const char *type, int fd, size_t len,
    const char *extra);

/* Send {"error": sentence}. `extra` as for web_reply(). */
void web_error(struct web_request *r, int status, const char *extra, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

#define WEB_ETOOBIG	(-2)
#define WEB_ELATE	(-3)

/* Read the request body, refusing more than `max` bytes: from the declared
 * length before reading, and by counting while reading (chunked uploads
 * declare none). The whole body must arrive within WEB_BODY_SMALL_S seconds
 * (`max` up to WEB_BODY_SMALL_MAX) or WEB_BODY_LARGE_S; then the connection
 * is cut. Returns 0 with a NUL-terminated buffer the caller frees,
 * WEB_ETOOBIG, WEB_ELATE, or -1 when the client went away. */
int web_read_body(struct web_request *r, size_t max, char **body, size_t *len);

/* Reply to a web_read_body() that returned `rc` (not 0): 413 and `too_big`,
 * 408 and a sentence for a body that came too slowly, 400 and `incomplete`.
 * Returns the status sent. */
int web_body_error(struct web_request *r, int rc, const char *too_big, const char *incomplete);

/* The same for a body that must be JSON: a Content-Type other than
 * application/json is refused with 415 and the sentence `not_json`, a body
 * over `max` bytes or cut short with 413 or 400 and `too_big`, and then the
 * body is parsed with web_parse_json(). Returns 0 with the body as
 * web_read_body() gives it and `*doc` as web_parse_json() gives it, or the
 * status of the refusal sent (nothing to free then). */
int web_read_json_body(struct web_request *r, size_t max, const char *not_json,
    const char *too_big, char **body, size_t *len, cJSON **doc);

/* Parse the `len` bytes of a request's `body` with json_parse(), the one way
 * a request body becomes JSON. Returns 0 with `*doc` (NULL when the body is
 * not JSON: the caller says what to send; else free with cJSON_Delete()), or
 * 400 after replying that the body is nested too deeply. */
int web_parse_json(struct web_request *r, const char *body, size_t len, cJSON **doc);

/* Find form field `name` in a multipart/form-data `body` whose Content-Type
 * header is `ctype`. Returns 0 with `*value` pointing into `body`, or -1. */
int web_multipart_field(const char *ctype, const char *body, size_t len, const char *name,
    const char **value, size_t *vlen);

/* The request header `name`, or NULL. */
const char *web_header(struct web_request *r, const char *name);

/* Copy the value of cookie `name` into `out`. Returns 0 or -1. */
int web_cookie(struct web_request *r, const char *name, char *out, size_t outlen);

/* Copy query parameter `name` into `out`. Returns 0, or -1 when absent. */
int web_query(struct web_request *r, const char *name, char *out, size_t outlen);

#endif
