/* The gzip usage-report reader (util/gzlines.h) on any bytes, with a 1 MiB
 * inflated limit so that bombs are cut short quickly; each record line goes
 * through the readers report_usage uses. */
#include "fuzz.h"
#include "util/gzlines.h"
#include "util/json.h"

#define LIMIT (1u << 20)

static int each(void *arg, const cJSON *rec)
{
    char detail[LICD_DETAIL_MAX];
    const char *metric;
    time_t at;
    int has_at;

    json_get_string(rec, "metric", 1, 1, 64, &metric, detail);
    json_get_time(rec, "at", 0, &at, &has_at, detail);
    ++*(long long *)arg;
    return LICD_OK;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char detail[LICD_DETAIL_MAX];
    long long taken = 0, rejected = 0;

    gzlines_read((const char *)data, size, LIMIT, each, &taken, &rejected, detail);
    return 0;
}
