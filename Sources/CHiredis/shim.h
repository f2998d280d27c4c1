#ifndef DUPWATCH_CHIREDIS_SHIM_H
#define DUPWATCH_CHIREDIS_SHIM_H

#include <hiredis/hiredis.h>
#include <stdlib.h>
#include <string.h>

// redisContext.errstr is a fixed char[128]; Swift imports it as a 128-element tuple.
// Handing back a pointer is the one-line way to read it as a C string.
static inline const char *chiredis_errstr(const redisContext *c) {
    return c->errstr;
}

// ---------------------------------------------------------------------------------------
// Reply arena. hiredis builds every reply element with its own malloc (the redisReply and a
// copy of its string) and freeReplyObject frees them one by one: for a 1,000-entry XREAD that
// is some 25,000 mallocs and frees, a quarter of the worker's CPU in perf. The Swift layer
// reads one reply at a time and releases it before reading the next, so the elements of a
// reply can come from a bump allocator that is simply rewound on release. The functions below
// are hiredis's own reply builders (read.h: redisReplyObjectFunctions), allocating from it.
// ---------------------------------------------------------------------------------------

typedef struct chiredis_arena_chunk {
    struct chiredis_arena_chunk *next;
    size_t size;
    size_t used;
    char data[];
} chiredis_arena_chunk;

// `magic` marks a reader's privdata as an arena: these functions are static in a header, so
// each translation unit has its own copy and their addresses cannot be compared.
#define CHIREDIS_ARENA_MAGIC 0x6475707761746368ULL

typedef struct chiredis_arena {
    unsigned long long magic;
    chiredis_arena_chunk *first;
    chiredis_arena_chunk *current;
} chiredis_arena;

enum { CHIREDIS_ARENA_CHUNK = 256 * 1024, CHIREDIS_ARENA_KEEP = 8 * 1024 * 1024 };

static inline void *chiredis_arena_alloc(chiredis_arena *a, size_t n) {
    n = (n + 15) & ~(size_t)15;
    chiredis_arena_chunk *c = a->current;
    while (c != NULL && c->used + n > c->size) {
        c = c->next;
        if (c != NULL) c->used = 0;
    }
    if (c == NULL) {
        size_t size = n > CHIREDIS_ARENA_CHUNK ? n : CHIREDIS_ARENA_CHUNK;
        c = (chiredis_arena_chunk *)malloc(sizeof(chiredis_arena_chunk) + size);
        if (c == NULL) return NULL;
        c->size = size;
        c->used = 0;
        c->next = NULL;
        if (a->current != NULL) {
            // Append after the current chunk, keeping any later (unused) ones after it.
            c->next = a->current->next;
            a->current->next = c;
        } else {
            a->first = c;
        }
    }
    a->current = c;
    void *p = c->data + c->used;
    c->used += n;
    return p;
}

// Rewinds the arena; chunks beyond CHIREDIS_ARENA_KEEP bytes are given back.
static inline void chiredis_arena_reset(chiredis_arena *a) {
    size_t kept = 0;
    chiredis_arena_chunk *prev = NULL;
    for (chiredis_arena_chunk *c = a->first; c != NULL;) {
        chiredis_arena_chunk *next = c->next;
        if (kept + c->size > CHIREDIS_ARENA_KEEP && prev != NULL) {
            prev->next = next;
            free(c);
        } else {
            kept += c->size;
            c->used = 0;
            prev = c;
        }
        c = next;
    }
    a->current = a->first;
}

static inline redisReply *chiredis_arena_reply(const redisReadTask *task, int type) {
    redisReply *r = (redisReply *)chiredis_arena_alloc((chiredis_arena *)task->privdata, sizeof(redisReply));
    if (r == NULL) return NULL;
    memset(r, 0, sizeof(redisReply));
    r->type = type;
    if (task->parent != NULL) {
        redisReply *parent = (redisReply *)task->parent->obj;
        parent->element[task->idx] = r;
    }
    return r;
}

static void *chiredis_arena_string(const redisReadTask *task, char *str, size_t len) {
    redisReply *r = chiredis_arena_reply(task, task->type);
    if (r == NULL) return NULL;
    char *copy = (char *)chiredis_arena_alloc((chiredis_arena *)task->privdata, len + 1);
    if (copy == NULL) return NULL;
    memcpy(copy, str, len);
    copy[len] = '\0';
    r->str = copy;
    r->len = len;
    return r;
}

static void *chiredis_arena_array(const redisReadTask *task, int elements) {
    redisReply *r = chiredis_arena_reply(task, REDIS_REPLY_ARRAY);
    if (r == NULL) return NULL;
    if (elements > 0) {
        r->element = (redisReply **)chiredis_arena_alloc((chiredis_arena *)task->privdata, elements * sizeof(redisReply *));
        if (r->element == NULL) return NULL;
        memset(r->element, 0, elements * sizeof(redisReply *));
    }
    r->elements = elements;
    return r;
}

static void *chiredis_arena_integer(const redisReadTask *task, long long value) {
    redisReply *r = chiredis_arena_reply(task, REDIS_REPLY_INTEGER);
    if (r != NULL) r->integer = value;
    return r;
}

static void *chiredis_arena_nil(const redisReadTask *task) {
    return chiredis_arena_reply(task, REDIS_REPLY_NIL);
}

// Elements live until the arena is rewound; hiredis calls this on a half-built reply after a
// protocol error, which then goes with the next rewind.
static void chiredis_arena_free_object(void *reply) {
    (void)reply;
}

static redisReplyObjectFunctions chiredis_arena_functions = {
    chiredis_arena_string, chiredis_arena_array, chiredis_arena_integer, chiredis_arena_nil,
    chiredis_arena_free_object,
};

// Makes `c` build its replies in a new arena; 0 if out of memory.
static inline int chiredis_use_arena(redisContext *c) {
    chiredis_arena *a = (chiredis_arena *)calloc(1, sizeof(chiredis_arena));
    if (a == NULL) return 0;
    a->magic = CHIREDIS_ARENA_MAGIC;
    c->reader->fn = &chiredis_arena_functions;
    c->reader->privdata = a;
    return 1;
}

// Releases a reply `c` returned: rewinds its arena (or frees the reply the usual way).
static inline chiredis_arena *chiredis_arena_of(redisContext *c) {
    chiredis_arena *a = (chiredis_arena *)c->reader->privdata;
    return a != NULL && a->magic == CHIREDIS_ARENA_MAGIC ? a : NULL;
}

static inline void chiredis_release_reply(redisContext *c, void *reply) {
    chiredis_arena *a = chiredis_arena_of(c);
    if (a != NULL) {
        chiredis_arena_reset(a);
    } else {
        freeReplyObject(reply);
    }
}

// Frees `c` and its arena.
static inline void chiredis_free(redisContext *c) {
    chiredis_arena *a = chiredis_arena_of(c);
    redisFree(c);
    if (a != NULL) {
        for (chiredis_arena_chunk *chunk = a->first; chunk != NULL;) {
            chiredis_arena_chunk *next = chunk->next;
            free(chunk);
            chunk = next;
        }
        free(a);
    }
}

#endif
