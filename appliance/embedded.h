#ifndef MARKBOOK_EMBEDDED_H
#define MARKBOOK_EMBEDDED_H

#include <stddef.h>

/* A file built into the binary (see tools/embed.py). */
struct embedded_file {
	const char *path;		/* relative, '/'-separated */
	const unsigned char *data;
	size_t len;
};

/* The sandbox harness (appliance/harness/), terminated by a NULL path. */
extern const struct embedded_file embedded_harness[];

/* The web UI (static/), served at /. */
extern const struct embedded_file embedded_static[];

/* schema.sql, the database's first version. */
extern const struct embedded_file embedded_schema[];

#endif
