/* JSON log lines on stderr. */
#include "util/log.h"

#include <stdio.h>
#include <time.h>

void log_escape(char *out, size_t cap, const char *s)
{
    size_t o = 0;
    for (; s && *s && o + 7 < cap; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\') {
            out[o++] = '\\';
            out[o++] = (char)c;
        } else if (c < 0x20 || c == 0x7f) {
            o += (size_t)snprintf(out + o, cap - o, "\\u%04x", c);
        } else {
            out[o++] = (char)c;
        }
    }
    if (cap)
        out[o < cap ? o : cap - 1] = '\0';
}

void log_line(const char *level, const char *msg, const char *detail)
{
    char m[512], d[1024], ts[32];
    time_t t = time(NULL);
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(ts, sizeof ts, "%Y-%m-%dT%H:%M:%SZ", &tm);
    log_escape(m, sizeof m, msg);
    log_escape(d, sizeof d, detail);
    fprintf(stderr, "{\"ts\":\"%s\",\"level\":\"%s\",\"msg\":\"%s\"%s%s%s}\n", ts, level, m,
            detail ? ",\"detail\":\"" : "", detail ? d : "", detail ? "\"" : "");
}
