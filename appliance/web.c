#include "web.h"

#include <arpa/inet.h>
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
#include <unistd.h>

#include "api.h"
#include "json.h"
#include "term.h"

struct web {
	struct mg_context *ctx;
	struct web_config cfg;
	struct sockaddr_in self;	/* where to reach our own listener */
	atomic_int stopped;		/* mg_stop() has returned */
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

int
web_read_body(struct web_request *r, size_t max, char **body, size_t *len)
{
	size_t cap = 0, used = 0;
	char *buf = NULL;
	int rc = -1;

	*body = NULL;
	*len = 0;
	if (r->ri->content_length > (long long)max)
		return WEB_ETOOBIG;
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
	buf[used] = '\0';
	*body = buf;
	*len = used;
	return 0;
fail:
	free(buf);
	return rc;
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
	if ((rc = web_read_body(r, max, body, len)) < 0) {
		rc = rc == WEB_ETOOBIG ? 413 : 400;
		web_error(r, rc, NULL, "%s", too_big);
		return rc;
	}
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
	struct web_request r;

	memset(&r, 0, sizeof r);
	r.conn = conn;
	r.ri = mg_get_request_info(conn);
	r.store = mg_get_thread_pointer(conn);
	r.queue = w->cfg.queue;
	r.method = r.ri->request_method;
	r.path = r.ri->local_uri ? r.ri->local_uri : "/";
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
	struct store *s;
	char err[512];

	if (thread_type != 1)
		return NULL;
	if ((s = store_open(w->cfg.db_path, err, sizeof err)) == NULL)
		fprintf(stderr, "markbook: a web thread cannot open the database: %s\n", err);
	return s;
}

static void
exit_thread(const struct mg_context *ctx, int thread_type, void *pointer)
{
	(void)ctx;
	if (thread_type == 1)
		store_close(pointer);
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
	memset(&cb, 0, sizeof cb);
	cb.begin_request = begin_request;
	cb.init_thread = init_thread;
	cb.exit_thread = exit_thread;
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
	free(w);
}
