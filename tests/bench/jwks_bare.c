/* The ceiling of GET /.well-known/jwks.json: libmicrohttpd answering the
 * same bytes with the daemon options licd's service/http/server.c uses
 * (internal thread pool over epoll, the same thread count, licd's default
 * timeout, per-address limit and backlog), and nothing else: no routing,
 * request id, metrics or access log. Like licd it answers in the second
 * access-handler call (DESIGN.md: one queued in the first closes the
 * connection). Usage: jwks_bare PORT THREADS FILE; runs until SIGTERM. */
#include <microhttpd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>

static enum MHD_Result on_access(void *cls, struct MHD_Connection *conn, const char *url,
                                 const char *method, const char *version, const char *data,
                                 size_t *size, void **state)
{
    static int begun;
    (void)url, (void)method, (void)version, (void)data, (void)size;
    if (!*state) {
        *state = &begun;
        return MHD_YES;
    }
    return MHD_queue_response(conn, MHD_HTTP_OK, cls);
}

int main(int argc, char **argv)
{
    static char body[1 << 16];
    struct MHD_Response *reply;
    struct MHD_Daemon *d;
    FILE *f = argc == 4 ? fopen(argv[3], "rb") : NULL;
    size_t len = f ? fread(body, 1, sizeof body, f) : 0;
    sigset_t stop;
    int sig;

    if (!f || len == 0 || len == sizeof body) {
        fprintf(stderr, "usage: %s PORT THREADS FILE (a file of 1 to 65535 bytes)\n", argv[0]);
        return 2;
    }
    fclose(f);
    reply = MHD_create_response_from_buffer(len, body, MHD_RESPMEM_PERSISTENT);
    MHD_add_response_header(reply, MHD_HTTP_HEADER_CONTENT_TYPE, "application/json");
    MHD_add_response_header(reply, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
    /* Blocked before MHD starts its threads, so only sigwait sees SIGTERM. */
    sigemptyset(&stop);
    sigaddset(&stop, SIGTERM);
    sigaddset(&stop, SIGINT);
    pthread_sigmask(SIG_BLOCK, &stop, NULL);
    d = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL | MHD_USE_ITC,
                         (uint16_t)atoi(argv[1]), NULL, NULL, on_access, reply,
                         MHD_OPTION_THREAD_POOL_SIZE, (unsigned)atoi(argv[2]),
                         MHD_OPTION_CONNECTION_TIMEOUT, 30u,
                         MHD_OPTION_PER_IP_CONNECTION_LIMIT, 256u,
                         MHD_OPTION_LISTEN_BACKLOG_SIZE, 1024u, MHD_OPTION_END);
    if (!d) {
        fprintf(stderr, "cannot listen on port %s\n", argv[1]);
        MHD_destroy_response(reply);
        return 1;
    }
    sigwait(&stop, &sig);
    MHD_stop_daemon(d);
    MHD_destroy_response(reply);
    return 0;
}
