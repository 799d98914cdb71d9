/* util/ratelimit: the bucket arithmetic, the independence of keys, the
 * bounded table and its eviction, and threads sharing it. */
#include <criterion/criterion.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "util/ratelimit.h"

/* now in seconds, exact to the nanosecond */
static ratelimit_verdict take(ratelimit *rl, const char *key, double now)
{
    ratelimit_verdict v;
    ratelimit_take(rl, key, strlen(key), (int64_t)(now * 1e9 + 0.5), &v);
    return v;
}

Test(ratelimit, bursts_up_to_twice_the_rate_then_refuses)
{
    ratelimit *rl = ratelimit_new(10, 1024);
    ratelimit_verdict v;
    cr_assert_not_null(rl);
    for (int i = 0; i < 20; i++) {
        v = take(rl, "v:a", 100.0);
        cr_assert(v.allowed, "request %d of the burst refused", i);
        cr_assert_eq(v.limit, 10);
        cr_assert_eq(v.remaining, 19 - i);
    }
    v = take(rl, "v:a", 100.0);
    cr_assert_not(v.allowed);
    cr_assert_eq(v.remaining, 0);
    cr_assert_eq(v.retry_after, 1);
    cr_assert_eq(v.reset, 1); /* 10 tokens are back in a second */
    ratelimit_free(rl);
}

Test(ratelimit, a_token_given_back_is_there_again_up_to_the_burst)
{
    ratelimit *rl = ratelimit_new(1, 1024);
    cr_assert_not_null(rl);
    ratelimit_give_back(rl, "f:a", 3, (int64_t)100e9); /* no bucket yet: nothing */
    cr_assert_eq(ratelimit_count(rl), 0);
    cr_assert(take(rl, "f:a", 100.0).allowed);
    cr_assert(take(rl, "f:a", 100.0).allowed);
    cr_assert_not(take(rl, "f:a", 100.0).allowed);
    ratelimit_give_back(rl, "f:a", 3, (int64_t)100e9);
    cr_assert(take(rl, "f:a", 100.0).allowed);
    cr_assert_not(take(rl, "f:a", 100.0).allowed);
    /* never above the burst */
    for (int i = 0; i < 5; i++)
        ratelimit_give_back(rl, "f:a", 3, (int64_t)100e9);
    cr_assert(take(rl, "f:a", 100.0).allowed);
    cr_assert(take(rl, "f:a", 100.0).allowed);
    cr_assert_not(take(rl, "f:a", 100.0).allowed);
    ratelimit_free(rl);
}

Test(ratelimit, refills_at_the_rate_and_caps_at_the_burst)
{
    ratelimit *rl = ratelimit_new(10, 1024);
    ratelimit_verdict v;
    for (int i = 0; i < 20; i++)
        take(rl, "k", 0.0);
    cr_assert_not(take(rl, "k", 0.0).allowed);
    /* 0.25 s later: 2.5 tokens, 2 requests. */
    cr_assert(take(rl, "k", 0.25).allowed);
    cr_assert(take(rl, "k", 0.25).allowed);
    v = take(rl, "k", 0.25);
    cr_assert_not(v.allowed);
    cr_assert_eq(v.retry_after, 1);
    /* An hour later the bucket holds 20, not 36000. */
    v = take(rl, "k", 3600.0);
    cr_assert(v.allowed);
    cr_assert_eq(v.remaining, 19);
    cr_assert_eq(v.reset, 0);
    ratelimit_free(rl);
}

Test(ratelimit, sustained_rate_is_served)
{
    ratelimit *rl = ratelimit_new(100, 1024);
    int refused = 0;
    /* 100 requests a second for 10 s, evenly spaced, after the burst is spent. */
    for (int i = 0; i < 200; i++)
        take(rl, "k", 0.0);
    for (int i = 1; i <= 1000; i++)
        refused += !take(rl, "k", i * 0.01).allowed;
    cr_assert_eq(refused, 0);
    ratelimit_free(rl);
}

Test(ratelimit, keys_are_independent)
{
    ratelimit *rl = ratelimit_new(1, 1024);
    cr_assert(take(rl, "c:one", 5.0).allowed);
    cr_assert(take(rl, "c:one", 5.0).allowed);
    cr_assert_not(take(rl, "c:one", 5.0).allowed);
    cr_assert(take(rl, "c:two", 5.0).allowed);
    cr_assert(take(rl, "c:two", 5.0).allowed);
    cr_assert_not(take(rl, "c:two", 5.0).allowed);
    ratelimit_free(rl);
}

Test(ratelimit, large_rates)
{
    ratelimit *rl = ratelimit_new(1000000000L, 64);
    ratelimit_verdict v = take(rl, "k", 1.0);
    cr_assert(v.allowed);
    cr_assert_eq(v.limit, 1000000000LL);
    cr_assert_eq(v.remaining, 1999999999LL);
    cr_assert_null(ratelimit_new(0, 64));
    cr_assert_null(ratelimit_new(1000000001L, 64));
    ratelimit_free(rl);
}

/* The table never holds more than its capacity (one set of 8 buckets here):
 * a new key takes an idle bucket (refilled to the brim) before a busy one. */
Test(ratelimit, bounded_and_evicts_idle_buckets_first)
{
    ratelimit *rl = ratelimit_new(1, 8);
    char key[32];
    for (int i = 0; i < 7; i++) {
        snprintf(key, sizeof key, "old:%d", i);
        take(rl, key, 0.0); /* full again by t = 2 */
    }
    take(rl, "busy", 10.0);
    take(rl, "busy", 10.0);
    cr_assert_not(take(rl, "busy", 10.0).allowed);
    cr_assert_eq(ratelimit_count(rl), 8);
    for (int i = 0; i < 7; i++) {
        snprintf(key, sizeof key, "new:%d", i);
        cr_assert(take(rl, key, 10.51 + i * 0.01).allowed);
        /* Each new key took an idle bucket: the busy one keeps its state. */
        cr_assert_eq(ratelimit_count(rl), 8);
    }
    cr_assert_not(take(rl, "busy", 10.5).allowed); /* half a token */
    /* With no idle bucket left, the least recently used goes: the busy key's
     * (last seen at 10.5, the others later), which then starts full again. */
    cr_assert(take(rl, "newest", 10.6).allowed);
    cr_assert(take(rl, "busy", 10.6).allowed);
    cr_assert_eq(ratelimit_count(rl), 8);
    /* Many more keys than buckets. */
    for (int i = 0; i < 10000; i++) {
        snprintf(key, sizeof key, "many:%d", i);
        take(rl, key, 20.0);
    }
    cr_assert_eq(ratelimit_count(rl), 8);
    ratelimit_free(rl);
}

struct worker {
    ratelimit *rl;
    char key[16];
    int allowed;
};

static void *hammer(void *p)
{
    struct worker *w = p;
    for (int i = 0; i < 20000; i++)
        w->allowed += take(w->rl, w->key, 1.0).allowed;
    return NULL;
}

/* Four threads on one key at one instant share its 2000 tokens exactly;
 * four on keys of their own get 2000 each. */
Test(ratelimit, threads_share_a_bucket_exactly)
{
    ratelimit *rl = ratelimit_new(1000, 4096);
    struct worker w[8];
    pthread_t t[8];
    int shared = 0;
    for (int i = 0; i < 8; i++) {
        w[i] = (struct worker){rl, "", 0};
        snprintf(w[i].key, sizeof w[i].key, i < 4 ? "shared" : "own%d", i);
        cr_assert_eq(pthread_create(&t[i], NULL, hammer, &w[i]), 0);
    }
    for (int i = 0; i < 8; i++)
        pthread_join(t[i], NULL);
    for (int i = 0; i < 4; i++)
        shared += w[i].allowed;
    cr_assert_eq(shared, 2000);
    for (int i = 4; i < 8; i++)
        cr_assert_eq(w[i].allowed, 2000);
    ratelimit_free(rl);
}
