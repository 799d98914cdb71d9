/* Sharded LRU hash cache (see cache.h). Each shard is a hash table with
 * chaining plus an LRU list under its own mutex, so request threads rarely
 * meet; the generation is one atomic shared by all shards. */
#include "util/cache.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "util/clock.h"
#include "util/metrics.h"

#define SHARDS 16
#define BUCKETS_PER_SHARD 1024

struct entry {
    struct entry *hnext;           /* hash chain */
    struct entry *prev, *next;     /* LRU list, most recent first */
    uint64_t hash;
    long long expires_ms;
    size_t len;
    char *key;                     /* key and value share one allocation */
    unsigned char value[];
};

struct shard {
    pthread_mutex_t lock;
    struct entry *buckets[BUCKETS_PER_SHARD];
    struct entry *head, *tail;
    size_t count;
};

struct cache {
    const char *name;
    struct shard shards[SHARDS];
    size_t per_shard;
    unsigned ttl_ms;
    atomic_uint_fast64_t generation;
    atomic_int enabled;
};

/* FNV-1a: keys are ids chosen by the service or its tenants' clients, and
 * a tenant that forces collisions only slows its own shard's look-ups. */
static uint64_t hash_key(const char *key)
{
    uint64_t h = 1469598103934665603ULL;
    for (; *key; key++)
        h = (h ^ (unsigned char)*key) * 1099511628211ULL;
    return h;
}

cache *cache_new(const char *name, size_t capacity, unsigned ttl_ms)
{
    cache *c = calloc(1, sizeof *c);
    if (!c)
        return NULL;
    c->name = name;
    for (int i = 0; i < SHARDS; i++)
        pthread_mutex_init(&c->shards[i].lock, NULL);
    c->per_shard = capacity / SHARDS ? capacity / SHARDS : 1;
    c->ttl_ms = ttl_ms;
    atomic_init(&c->generation, 1);
    atomic_init(&c->enabled, 1);
    return c;
}

static struct entry **slot(struct shard *s, uint64_t h, const char *key)
{
    struct entry **p = &s->buckets[(h >> 8) % BUCKETS_PER_SHARD];
    while (*p && ((*p)->hash != h || strcmp((*p)->key, key) != 0))
        p = &(*p)->hnext;
    return p;
}

static void lru_unlink(struct shard *s, struct entry *e)
{
    if (e->prev)
        e->prev->next = e->next;
    else
        s->head = e->next;
    if (e->next)
        e->next->prev = e->prev;
    else
        s->tail = e->prev;
}

static void lru_push(struct shard *s, struct entry *e)
{
    e->prev = NULL;
    e->next = s->head;
    if (s->head)
        s->head->prev = e;
    s->head = e;
    if (!s->tail)
        s->tail = e;
}

/* Removes the entry *p points at (its hash slot). */
static void drop(struct shard *s, struct entry **p)
{
    struct entry *e = *p;
    *p = e->hnext;
    lru_unlink(s, e);
    s->count--;
    free(e);
}

static void clear_shard(struct shard *s)
{
    struct entry *e = s->head, *next;
    for (; e; e = next) {
        next = e->next;
        free(e);
    }
    memset(s->buckets, 0, sizeof s->buckets);
    s->head = s->tail = NULL;
    s->count = 0;
}

void cache_free(cache *c)
{
    if (!c)
        return;
    for (int i = 0; i < SHARDS; i++) {
        clear_shard(&c->shards[i]);
        pthread_mutex_destroy(&c->shards[i].lock);
    }
    free(c);
}

uint64_t cache_generation(const cache *c) { return atomic_load(&c->generation); }

long cache_get(cache *c, const char *key, void *out, size_t cap)
{
    uint64_t h = hash_key(key);
    struct shard *s = &c->shards[h % SHARDS];
    struct entry **p;
    long len = -1;
    if (!atomic_load_explicit(&c->enabled, memory_order_relaxed))
        return -1;
    pthread_mutex_lock(&s->lock);
    p = slot(s, h, key);
    if (*p && (*p)->expires_ms <= clock_mono_ns() / 1000000) {
        drop(s, p);
    } else if (*p && (*p)->len <= cap) {
        memcpy(out, (*p)->value, (*p)->len);
        len = (long)(*p)->len;
        lru_unlink(s, *p);
        lru_push(s, *p);
    }
    pthread_mutex_unlock(&s->lock);
    metrics_cache_lookup(c->name, len >= 0);
    return len;
}

void cache_put(cache *c, const char *key, const void *value, size_t len, uint64_t generation)
{
    uint64_t h = hash_key(key);
    struct shard *s = &c->shards[h % SHARDS];
    size_t klen = strlen(key) + 1;
    struct entry *e = malloc(sizeof *e + len + klen), **p;
    if (!e)
        return;
    memcpy(e->value, value, len);
    e->key = (char *)e->value + len;
    memcpy(e->key, key, klen);
    e->hash = h;
    e->len = len;
    e->expires_ms = clock_mono_ns() / 1000000 + c->ttl_ms;
    pthread_mutex_lock(&s->lock);
    /* Checked under the shard lock: an invalidation raises the generation
     * before it takes this lock to delete, so either it is seen here or it
     * deletes what is stored now. */
    if (!atomic_load(&c->enabled) || atomic_load(&c->generation) != generation) {
        pthread_mutex_unlock(&s->lock);
        free(e);
        return;
    }
    p = slot(s, h, key);
    if (*p)
        drop(s, p);
    if (s->count >= c->per_shard)
        drop(s, slot(s, s->tail->hash, s->tail->key));
    e->hnext = NULL;
    *slot(s, h, key) = e;
    lru_push(s, e);
    s->count++;
    pthread_mutex_unlock(&s->lock);
}

void cache_del(cache *c, const char *key)
{
    uint64_t h = hash_key(key);
    struct shard *s = &c->shards[h % SHARDS];
    struct entry **p;
    atomic_fetch_add(&c->generation, 1);
    pthread_mutex_lock(&s->lock);
    if (*(p = slot(s, h, key)))
        drop(s, p);
    pthread_mutex_unlock(&s->lock);
}

void cache_clear(cache *c)
{
    atomic_fetch_add(&c->generation, 1);
    for (int i = 0; i < SHARDS; i++) {
        pthread_mutex_lock(&c->shards[i].lock);
        clear_shard(&c->shards[i]);
        pthread_mutex_unlock(&c->shards[i].lock);
    }
}

void cache_set_enabled(cache *c, int enabled)
{
    if (!enabled)
        atomic_store(&c->enabled, 0);
    cache_clear(c);
    if (enabled)
        atomic_store(&c->enabled, 1);
}
