#ifndef MARKBOOK_MSG_H
#define MARKBOOK_MSG_H

#include <stddef.h>

/* Write a sentence for the teacher or the student into `err` (`errlen` bytes,
 * cut if longer) and return -1, so a failing function can end with
 * `return msg_fail(err, errlen, "...", ...)`. */
int msg_fail(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#endif
