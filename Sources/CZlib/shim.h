// zlib from Debian's zlib1g-dev (/usr/include/zlib.h): `dupwatch import` reads .gz files
// as a stream, without zcat and without holding the file in memory.
#include <zlib.h>

// inflateInit2 is a macro in zlib.h, which Swift cannot call.
static inline int dupwatch_inflate_init(z_stream *stream) {
    // 15 + 32: the largest window, gzip or zlib header detected automatically.
    return inflateInit2(stream, 15 + 32);
}
