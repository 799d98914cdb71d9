/* A bounded, thread-safe cache of small values by string key, for facts
 * read on every request and rarely changed (keys, products, licences).
 * Entries live at most a TTL; whoever learns of a change invalidates them
 * (store/notify.c, from PostgreSQL's NOTIFY), and a value read from the
 * database before an invalidation is never stored after it. */
#ifndef LICD_UTIL_CACHE_H
#define LICD_UTIL_CACHE_H

#include <stddef.h>
#include <stdint.h>

typedef struct cache cache;

/* A cache of at most capacity entries, each kept at most ttl_ms; name (a
 * static string) labels its hits and misses in /metrics. NULL when out of
 * memory. Free with cache_free. */
cache *cache_new(const char *name, size_t capacity, unsigned ttl_ms);
void cache_free(cache *c);

/* The invalidation count, to read before fetching a value from the
 * database and to give to cache_put with it. */
uint64_t cache_generation(const cache *c);

/* Copies the value stored under key (at most cap bytes) into out; its
 * length, or -1 on a miss (absent, expired, disabled or too long for cap). */
long cache_get(cache *c, const char *key, void *out, size_t cap);

/* Stores len bytes under key, unless the cache was invalidated since
 * generation was read (then the value may be stale and is dropped), or it
 * is disabled. The least recently used entry makes room when full. */
void cache_put(cache *c, const char *key, const void *value, size_t len, uint64_t generation);

/* Forgets key; cache_clear forgets everything. Both raise the generation. */
void cache_del(cache *c, const char *key);
void cache_clear(cache *c);

/* While disabled (say, while changes cannot be heard of), every get
 * misses and puts are dropped; enabling starts from an empty cache. */
void cache_set_enabled(cache *c, int enabled);

#endif
