/* licd processes of the test's own: HTTPS, retired keys in the JWKS, a
 * graceful stop that finishes the request in flight, and refused settings. */
#include <criterion/criterion.h>
#include <curl/curl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "harness.h"

static size_t sink(char *d, size_t s, size_t n, void *p)
{
    (void)d, (void)p;
    return s * n;
}

Test(process, serves_https_when_given_a_certificate, .timeout = 60)
{
    char *dir = it_tmpdir(), cmd[2048], cert[600], key[600], certpath[512];
    int port = it_free_port();
    long status = 0;
    CURL *c;
    char url[128];
    int pid;

    snprintf(cmd, sizeof cmd,
             "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 1 "
             "-subj /CN=127.0.0.1 -addext subjectAltName=IP:127.0.0.1 -keyout '%s/tls.key' "
             "-out '%s/tls.crt' 2>/dev/null",
             dir, dir);
    cr_assert_eq(it_sh(cmd, NULL), 0, "openssl could not make a certificate");
    snprintf(cert, sizeof cert, "LICD_TLS_CERT=%s/tls.crt", dir);
    snprintf(key, sizeof key, "LICD_TLS_KEY=%s/tls.key", dir);
    snprintf(certpath, sizeof certpath, "%s/tls.crt", dir);
    {
        const char *env[] = {cert, key, NULL};
        char log[600];
        snprintf(log, sizeof log, "%s/licd.log", dir);
        pid = it_start_licd(env, log, port);
    }

    c = curl_easy_init();
    snprintf(url, sizeof url, "https://127.0.0.1:%d/healthz", port);
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_CAINFO, certpath);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, sink);
    curl_easy_setopt(c, CURLOPT_TIMEOUT, 20L);
    cr_assert_eq(curl_easy_perform(c), CURLE_OK, "HTTPS request failed");
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
    curl_easy_cleanup(c);
    cr_assert_eq(status, 200);
    cr_assert_eq(it_stop_licd(pid), 0);
    it_rmdir(dir);
}

Test(process, retired_keys_stay_published, .timeout = 60)
{
    char *dir = it_tmpdir(), cmd[1024], retired[600], *out;
    int port = it_free_port();
    int pid;
    cJSON *jwks;

    snprintf(cmd, sizeof cmd, "'%s' keygen --out '%s/old.pem' >/dev/null", it_env("LICD_BIN"), dir);
    cr_assert_eq(it_sh(cmd, NULL), 0);
    snprintf(retired, sizeof retired, "LICD_RETIRED_KEYS=%s/old.pem", dir);
    {
        const char *env[] = {retired, NULL};
        char log[600];
        snprintf(log, sizeof log, "%s/licd.log", dir);
        pid = it_start_licd(env, log, port);
    }
    snprintf(cmd, sizeof cmd, "curl -fsS http://127.0.0.1:%d/.well-known/jwks.json", port);
    cr_assert_eq(it_sh(cmd, &out), 0);
    jwks = cJSON_Parse(out);
    cr_assert_eq(cJSON_GetArraySize(cJSON_GetObjectItem(jwks, "keys")), 2, "%s", out);
    cJSON_Delete(jwks);
    free(out);
    cr_assert_eq(it_stop_licd(pid), 0);
    it_rmdir(dir);
}

/* SIGTERM while a request's body is still arriving: licd stops accepting
 * connections, answers that request in full, then exits 0. */
Test(process, graceful_stop_finishes_the_request_in_flight, .timeout = 60)
{
    char *dir = it_tmpdir(), log[600], req[1024], resp[4096] = "";
    char *key = it_new_vendor("Graceful Ltd");
    const char *body = "{\"name\":\"Graceful Renamed\"}";
    int port = it_free_port(), s, half = 10;
    size_t got = 0;
    ssize_t n;
    int pid;

    snprintf(log, sizeof log, "%s/licd.log", dir);
    {
        pid = it_start_licd(NULL, log, port);
    }
    s = it_connect(port);
    cr_assert(s >= 0);
    snprintf(req, sizeof req,
             "PATCH /v1/vendor HTTP/1.1\r\nHost: licd\r\nAuthorization: Bearer %s\r\n"
             "Content-Type: application/json\r\nContent-Length: %zu\r\n\r\n%.*s",
             key, strlen(body), half, body);
    cr_assert_eq(write(s, req, strlen(req)), (ssize_t)strlen(req));
    usleep(300 * 1000);
    kill((pid_t)pid, SIGTERM);
    usleep(500 * 1000);
    cr_assert_eq(it_connect(port), -1, "licd still accepts connections while stopping");
    cr_assert_eq(write(s, body + half, strlen(body) - (size_t)half),
                 (ssize_t)(strlen(body) - (size_t)half));
    while (got < sizeof resp - 1 && (n = read(s, resp + got, sizeof resp - 1 - got)) > 0) {
        got += (size_t)n;
        resp[got] = '\0';
        if (strstr(resp, "Graceful Renamed"))
            break;
    }
    close(s);
    cr_assert(strncmp(resp, "HTTP/1.1 200", 12) == 0, "answer: %s", resp);
    cr_assert(strstr(resp, "Graceful Renamed"), "answer: %s", resp);
    {
        int status;
        cr_assert_eq(waitpid((pid_t)pid, &status, 0), (pid_t)pid);
        cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    }
    free(key);
    it_rmdir(dir);
}

Test(process, bad_settings_stop_start_up_naming_the_variable, .timeout = 60)
{
    static const char *const cases[][2] = {
        {"LICD_THREADS=abc", "LICD_THREADS"},
        {"LICD_LEASE_TTL=-5", "LICD_LEASE_TTL"},
        {"LICD_TOKEN_TTL=10x", "LICD_TOKEN_TTL"},
        {"LICD_LISTEN=nowhere", "LICD_LISTEN"},
        {"LICD_TRUSTED_PROXIES=10.0.0.1/8", "LICD_TRUSTED_PROXIES"},
        {"LICD_SIGNING_KEY=/nonexistent/key.pem", "/nonexistent/key.pem"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char cmd[1024], *out;
        snprintf(cmd, sizeof cmd, "env %s '%s' serve 2>&1 </dev/null", cases[i][0],
                 it_env("LICD_BIN"));
        cr_assert_neq(it_sh(cmd, &out), 0, "%s was accepted", cases[i][0]);
        cr_assert(strstr(out, cases[i][1]), "%s: message does not name it: %s", cases[i][0], out);
        free(out);
    }
}
