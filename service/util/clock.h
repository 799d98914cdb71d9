/* The monotonic clock, in nanoseconds: for durations, deadlines and rate
 * buckets (never for times shown to anyone). */
#ifndef LICD_UTIL_CLOCK_H
#define LICD_UTIL_CLOCK_H

#include <stdint.h>
#include <time.h>

static inline int64_t clock_mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

#endif
