/* Per-key token buckets: each key may make `rate` requests a second,
 * sustained, with bursts up to twice that (a bucket of 2 x rate tokens that
 * refills at rate a second). The table is set-associative and bounded: a key
 * hashes to one set of a few buckets under that set's own lock, so threads
 * serving different keys rarely meet, and a new key takes an empty bucket,
 * else one that has refilled to the brim (idle: forgetting it changes
 * nothing), else the one of its set least recently used. */
#ifndef LICD_UTIL_RATELIMIT_H
#define LICD_UTIL_RATELIMIT_H

#include <stddef.h>
#include <stdint.h>

typedef struct ratelimit ratelimit;

typedef struct {
    int allowed;           /* 1: a token was taken */
    long long limit;       /* the sustained rate (RateLimit-Limit) */
    long long remaining;   /* whole requests that may follow at once (RateLimit-Remaining) */
    long long reset;       /* seconds until remaining is back at limit (RateLimit-Reset) */
    long long retry_after; /* when refused: seconds until a token is there (>= 1) */
} ratelimit_verdict;

/* A table for rate requests a second per key (1 to 1e9), holding at most
 * about capacity buckets (rounded up to whole sets). NULL when out of memory. */
ratelimit *ratelimit_new(long rate, size_t capacity);
void ratelimit_free(ratelimit *rl);

/* Takes one token from key's bucket (len bytes at key) at time now
 * (monotonic nanoseconds), creating the bucket full. */
void ratelimit_take(ratelimit *rl, const char *key, size_t len, int64_t now, ratelimit_verdict *v);

/* Returns the token a take took (for work that turned out to cost nothing
 * to limit), up to the burst; nothing when key's bucket is gone. */
void ratelimit_give_back(ratelimit *rl, const char *key, size_t len, int64_t now);

/* Buckets in use (for tests). */
size_t ratelimit_count(ratelimit *rl);

#endif
