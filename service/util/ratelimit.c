/* Per-key token buckets in a bounded set-associative table (see ratelimit.h). */
#include "util/ratelimit.h"

#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#define WAYS 8

/* A key is known by a 64-bit seeded hash of it (0 marks an empty bucket):
 * the keys are ids the server made, and two of them sharing a hash would
 * only share a bucket. */
typedef struct {
    uint64_t hash;
    int64_t tokens; /* in billionths of a token, so that refills are exact */
    int64_t last;   /* when tokens was last brought up to date (ns) */
} bucket;

typedef struct {
    pthread_mutex_t lock;
    bucket b[WAYS];
} bucket_set;

#define NANO 1000000000LL

struct ratelimit {
    int64_t rate;  /* tokens a second, or billionths of a token a nanosecond */
    int64_t burst; /* 2 x rate tokens, in billionths (at most 2e18) */
    uint64_t seed;
    size_t mask; /* nsets - 1 */
    bucket_set *sets;
};

static uint64_t hash_key(uint64_t seed, const char *key, size_t len)
{
    /* FNV-1a, then the splitmix64 finaliser to spread it over the sets. */
    uint64_t h = 1469598103934665603ULL ^ seed;
    for (size_t i = 0; i < len; i++) {
        h ^= (unsigned char)key[i];
        h *= 1099511628211ULL;
    }
    h ^= h >> 30;
    h *= 0xbf58476d1ce4e5b9ULL;
    h ^= h >> 27;
    h *= 0x94d049bb133111ebULL;
    h ^= h >> 31;
    return h ? h : 1;
}

ratelimit *ratelimit_new(long rate, size_t capacity)
{
    ratelimit *rl;
    size_t nsets = 1;
    if (rate < 1 || rate > 1000000000L || !(rl = calloc(1, sizeof *rl)))
        return NULL;
    while (nsets * WAYS < capacity && nsets < ((size_t)1 << 24))
        nsets <<= 1;
    rl->rate = rate;
    rl->burst = 2 * rate * NANO;
    rl->mask = nsets - 1;
    if (getrandom(&rl->seed, sizeof rl->seed, 0) != (ssize_t)sizeof rl->seed)
        rl->seed = (uint64_t)time(NULL) ^ (uint64_t)(uintptr_t)rl;
    if (!(rl->sets = calloc(nsets, sizeof *rl->sets))) {
        free(rl);
        return NULL;
    }
    for (size_t i = 0; i < nsets; i++)
        pthread_mutex_init(&rl->sets[i].lock, NULL);
    return rl;
}

void ratelimit_free(ratelimit *rl)
{
    if (!rl)
        return;
    for (size_t i = 0; i <= rl->mask; i++)
        pthread_mutex_destroy(&rl->sets[i].lock);
    free(rl->sets);
    free(rl);
}

/* b's tokens at now: what it had plus the refill since, up to the burst. A
 * refill of 2 s or more fills any bucket (and would overflow at 10^9/s). */
static int64_t tokens_at(const ratelimit *rl, const bucket *b, int64_t now)
{
    int64_t elapsed = now - b->last;
    if (elapsed <= 0)
        return b->tokens;
    if (elapsed >= 2 * NANO)
        return rl->burst;
    int64_t t = b->tokens + elapsed * rl->rate;
    return t < rl->burst ? t : rl->burst;
}

/* The bucket of hash h in set s, claiming one for it when it has none. */
static bucket *find(const ratelimit *rl, bucket_set *s, uint64_t h, int64_t now)
{
    bucket *empty = NULL, *idle = NULL, *oldest = NULL;
    for (int i = 0; i < WAYS; i++) {
        bucket *b = &s->b[i];
        if (b->hash == h)
            return b;
        if (!b->hash) {
            if (!empty)
                empty = b;
        } else if (tokens_at(rl, b, now) == rl->burst) {
            if (!idle)
                idle = b;
        } else if (!oldest || b->last < oldest->last) {
            oldest = b;
        }
    }
    bucket *b = empty ? empty : idle ? idle : oldest;
    b->hash = h;
    b->tokens = rl->burst;
    b->last = now;
    return b;
}

void ratelimit_take(ratelimit *rl, const char *key, size_t len, int64_t now, ratelimit_verdict *v)
{
    uint64_t h = hash_key(rl->seed, key, len);
    bucket_set *s = &rl->sets[h & rl->mask];
    int64_t tokens;

    pthread_mutex_lock(&s->lock);
    bucket *b = find(rl, s, h, now);
    b->tokens = tokens_at(rl, b, now);
    if (now > b->last)
        b->last = now;
    v->allowed = b->tokens >= NANO;
    if (v->allowed)
        b->tokens -= NANO;
    tokens = b->tokens;
    pthread_mutex_unlock(&s->lock);

    /* A bucket is never short of more than a second's refill: both waits
     * are 0 or 1 s. */
    v->limit = rl->rate;
    v->remaining = tokens / NANO;
    v->reset = tokens >= rl->rate * NANO ? 0 : 1;
    v->retry_after = v->allowed ? 0 : 1;
}

size_t ratelimit_count(ratelimit *rl)
{
    size_t n = 0;
    for (size_t i = 0; i <= rl->mask; i++) {
        pthread_mutex_lock(&rl->sets[i].lock);
        for (int w = 0; w < WAYS; w++)
            n += rl->sets[i].b[w].hash != 0;
        pthread_mutex_unlock(&rl->sets[i].lock);
    }
    return n;
}

void ratelimit_give_back(ratelimit *rl, const char *key, size_t len, int64_t now)
{
    uint64_t h = hash_key(rl->seed, key, len);
    bucket_set *s = &rl->sets[h & rl->mask];

    pthread_mutex_lock(&s->lock);
    for (int i = 0; i < WAYS; i++) {
        bucket *b = &s->b[i];
        if (b->hash != h)
            continue;
        b->tokens = tokens_at(rl, b, now);
        if (now > b->last)
            b->last = now;
        b->tokens = b->tokens + NANO < rl->burst ? b->tokens + NANO : rl->burst;
        break;
    }
    pthread_mutex_unlock(&s->lock);
}
