#ifndef DUPWATCH_CHIREDIS_SHIM_H
#define DUPWATCH_CHIREDIS_SHIM_H

#include <hiredis/hiredis.h>

// redisContext.errstr is a fixed char[128]; Swift imports it as a 128-element tuple.
// Handing back a pointer is the one-line way to read it as a C string.
static inline const char *chiredis_errstr(const redisContext *c) {
    return c->errstr;
}

#endif
