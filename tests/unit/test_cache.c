/* Unit tests for service/util/cache.c: hits, misses, TTL, LRU bound,
 * invalidation against racing fills, and many threads at once. */
#include <criterion/criterion.h>

#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "util/cache.h"

Test(cache, put_get_del)
{
    cache *c = cache_new("test", 100, 60000);
    char out[16];
    cr_assert_eq(cache_get(c, "k", out, sizeof out), -1);
    cache_put(c, "k", "value", 6, cache_generation(c));
    cr_assert_eq(cache_get(c, "k", out, sizeof out), 6);
    cr_assert_str_eq(out, "value");
    /* too long for the caller's buffer: a miss, not a cut value */
    cr_assert_eq(cache_get(c, "k", out, 3), -1);
    cache_put(c, "k", "other", 6, cache_generation(c));
    cr_assert_eq(cache_get(c, "k", out, sizeof out), 6);
    cr_assert_str_eq(out, "other");
    cache_del(c, "k");
    cr_assert_eq(cache_get(c, "k", out, sizeof out), -1);
    cache_free(c);
}

Test(cache, a_fill_that_raced_an_invalidation_is_dropped)
{
    cache *c = cache_new("test", 100, 60000);
    char out[8];
    uint64_t g = cache_generation(c);  /* read before "the database read" */
    cache_del(c, "other key");         /* a change is heard of meanwhile */
    cache_put(c, "k", "stale", 6, g);
    cr_assert_eq(cache_get(c, "k", out, sizeof out), -1);
    cache_free(c);
}

Test(cache, entries_expire)
{
    cache *c = cache_new("test", 100, 50);
    char out[8];
    cache_put(c, "k", "v", 2, cache_generation(c));
    cr_assert_eq(cache_get(c, "k", out, sizeof out), 2);
    usleep(80 * 1000);
    cr_assert_eq(cache_get(c, "k", out, sizeof out), -1);
    cache_free(c);
}

Test(cache, bounded_by_capacity_least_recent_first)
{
    cache *c = cache_new("test", 16, 60000); /* one entry per shard */
    char key[32], out[8];
    int kept = 0;
    for (int i = 0; i < 1000; i++) {
        snprintf(key, sizeof key, "key-%d", i);
        cache_put(c, key, "v", 2, cache_generation(c));
    }
    for (int i = 0; i < 1000; i++) {
        snprintf(key, sizeof key, "key-%d", i);
        kept += cache_get(c, key, out, sizeof out) == 2;
    }
    cr_assert_leq(kept, 16);
    cr_assert_geq(kept, 1);
    cache_free(c);
}

Test(cache, disabled_misses_and_drops)
{
    cache *c = cache_new("test", 100, 60000);
    char out[8];
    cache_put(c, "k", "v", 2, cache_generation(c));
    cache_set_enabled(c, 0);
    cr_assert_eq(cache_get(c, "k", out, sizeof out), -1);
    cache_put(c, "k", "v", 2, cache_generation(c));
    cr_assert_eq(cache_get(c, "k", out, sizeof out), -1);
    cache_set_enabled(c, 1);
    cr_assert_eq(cache_get(c, "k", out, sizeof out), -1);
    cache_put(c, "k", "v", 2, cache_generation(c));
    cr_assert_eq(cache_get(c, "k", out, sizeof out), 2);
    cache_free(c);
}

static cache *shared;

static void *hammer(void *arg)
{
    char key[32], val[32], out[32];
    long id = (long)arg;
    for (int i = 0; i < 20000; i++) {
        snprintf(key, sizeof key, "k%d", i % 500);
        snprintf(val, sizeof val, "v%d", i % 500);
        if (i % 3 == (int)id % 3)
            cache_put(shared, key, val, strlen(val) + 1, cache_generation(shared));
        else if (i % 97 == 0)
            cache_del(shared, key);
        else if (cache_get(shared, key, out, sizeof out) > 0)
            cr_assert_str_eq(out, val, "wrong value under %s", key);
    }
    return NULL;
}

Test(cache, many_threads)
{
    pthread_t t[8];
    shared = cache_new("test", 256, 60000);
    for (long i = 0; i < 8; i++)
        pthread_create(&t[i], NULL, hammer, (void *)i);
    for (int i = 0; i < 8; i++)
        pthread_join(t[i], NULL);
    cache_free(shared);
}
