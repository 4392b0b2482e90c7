/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * test_sandbox.c - unit tests for netstackd's sandbox (tools/netstackd/sandbox.c)
 *
 * --runas parsing against this system's passwd and group databases, and the
 * seccomp allow-list loaded for real, each time in a forked child: what the
 * daemon's loop needs keeps working, on a thread started before the filter
 * too, and a call outside the list ends the child with exit status 1 and the
 * one line naming it on stderr.
 */
#define _GNU_SOURCE /* SYS_clone3, syscall() */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <pthread.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tools/netstackd/sandbox.h"

#define OUT_MAX 1024

/**
 * struct child - how a child that loaded the filter ended
 * @status: from waitpid()
 * @out:    what it wrote to stderr
 */
struct child {
    int status;
    char out[OUT_MAX];
};

/**
 * run_confined() - fork, load the filter in the child, run @fn there
 * @fn:     the body; its return value is the child's exit status
 * @c:      how it ended
 */
static void run_confined(int (*fn)(void), struct child *c)
{
    char err[256];
    size_t used = 0;
    ssize_t n;
    int p[2];
    pid_t pid;

    assert_int_equal(pipe(p), 0);
    pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        dup2(p[1], STDERR_FILENO);
        close(p[0]);
        if (sandbox_seccomp(err, sizeof(err)) < 0) {
            n = write(STDERR_FILENO, err, strlen(err));
            _exit(99);
        }
        _exit(fn());
    }
    close(p[1]);
    while ((n = read(p[0], c->out + used, sizeof(c->out) - 1 - used)) > 0)
        used += (size_t)n;
    c->out[used] = '\0';
    close(p[0]);
    assert_int_equal(waitpid(pid, &c->status, 0), pid);
}

/**
 * assert_trapped() - the child exited 1 saying that system call @nr (@name)
 * is not allowed
 */
static void assert_trapped(const struct child *c, long nr, const char *name)
{
    char want[256];

    snprintf(want, sizeof(want), "netstackd: sandbox: system call %ld (%s) is not allowed; "
             "--no-sandbox turns the sandbox off\n", nr, name);
    assert_string_equal(c->out, want);
    assert_true(WIFEXITED(c->status));
    assert_int_equal(WEXITSTATUS(c->status), 1);
}

/* --- --runas ------------------------------------------------------------------ */

static void test_runas_names_and_numbers(void **state)
{
    struct passwd *nobody = getpwnam("nobody");
    struct sandbox_user u;
    char err[160];

    (void)state;
    assert_int_equal(sandbox_parse_user("0", &u, err, sizeof(err)), 0);
    assert_int_equal(u.uid, 0);
    assert_int_equal(u.gid, 0);
    assert_string_equal(u.name, "0");
    assert_int_equal(sandbox_parse_user("root", &u, err, sizeof(err)), 0);
    assert_int_equal(u.uid, 0);
    assert_int_equal(sandbox_parse_user("4000000:4000001", &u, err, sizeof(err)), 0);
    assert_int_equal(u.uid, 4000000);
    assert_int_equal(u.gid, 4000001);
    assert_int_equal(sandbox_parse_user("root:4321", &u, err, sizeof(err)), 0);
    assert_int_equal(u.uid, 0);
    assert_int_equal(u.gid, 4321);
    if (!nobody)
        return;
    assert_int_equal(sandbox_parse_user("nobody", &u, err, sizeof(err)), 0);
    assert_int_equal(u.uid, nobody->pw_uid);
    assert_int_equal(u.gid, nobody->pw_gid);
    assert_string_equal(u.name, "nobody");
    assert_int_equal(sandbox_parse_user("nobody:0", &u, err, sizeof(err)), 0);
    assert_int_equal(u.gid, 0);
}

static void test_runas_errors(void **state)
{
    static const struct {
        const char *spec, *why;
    } bad[] = {
        { "", "expected USER, UID, USER:GROUP or UID:GID" },
        { ":0", "expected USER, UID, USER:GROUP or UID:GID" },
        { "root:", "expected USER, UID, USER:GROUP or UID:GID" },
        { "no-such-user-here", "no such user" },
        { "root:no-such-group-here", "no such group" },
        { "4000000", "no user with this uid; give UID:GID" },
        { "4294967295:0", "no such user" },
    };
    struct sandbox_user u;
    char err[160], want[160];
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        assert_int_equal(sandbox_parse_user(bad[i].spec, &u, err, sizeof(err)), -EINVAL);
        snprintf(want, sizeof(want), "--runas %s: %s", bad[i].spec, bad[i].why);
        assert_string_equal(err, want);
    }
}

/* --- What stays allowed ------------------------------------------------------- */

/**
 * status_has() - /proc/self/status has the line @line
 */
static int status_has(const char *line)
{
    char buf[4096];
    ssize_t n;
    int fd = open("/proc/self/status", O_RDONLY | O_CLOEXEC);

    if (fd < 0)
        return 0;
    n = read(fd, buf, sizeof(buf) - 1);
    close(fd);
    if (n <= 0)
        return 0;
    buf[n] = '\0';
    return strstr(buf, line) != NULL;
}

/**
 * thread_body() - a thread does what the host resolver's do: allocate, return
 */
static void *thread_body(void *arg)
{
    free(malloc(100000));
    return arg;
}

/**
 * loop_calls() - a sample of what the loop, the NAT and the resolver need
 */
static int loop_calls(void)
{
    int s4 = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    int s6 = socket(AF_INET6, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    int su = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    struct linger lg = { 1, 0 };
    static int marker;
    pthread_t th;
    void *ret = NULL;

    if (!status_has("Seccomp:\t2\n") || !status_has("NoNewPrivs:\t1\n"))
        return 10;
    if (s4 < 0 || s6 < 0 || su < 0)
        return 11;
    if (setsockopt(s6, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg)) < 0)
        return 12;
    if (if_nametoindex("lo") == 0)
        return 13;
    if (pthread_create(&th, NULL, thread_body, &marker) || pthread_join(th, &ret) || ret != &marker)
        return 14;
    if (syscall(SYS_clone3, NULL, 0) != -1 || errno != ENOSYS)
        return 15;
    close(s4);
    close(s6);
    close(su);
    return 0;
}

static void test_loop_calls_allowed(void **state)
{
    struct child c;

    (void)state;
    run_confined(loop_calls, &c);
    assert_string_equal(c.out, "");
    assert_true(WIFEXITED(c.status));
    assert_int_equal(WEXITSTATUS(c.status), 0);
}

/* --- What ends the process ---------------------------------------------------- */

static int call_getppid(void)
{
    return getppid() > 0 ? 0 : 2;
}

static int call_fork(void)
{
    pid_t pid = fork();

    if (pid == 0)
        _exit(0);
    return 2;
}

static int call_packet_socket(void)
{
    return socket(AF_PACKET, SOCK_RAW, 0) < 0 ? 3 : 2;
}

static int call_ioctl(void)
{
    return ioctl(STDIN_FILENO, FIOCLEX) < 0 ? 3 : 2;
}

static int call_execve(void)
{
    char *const argv[] = { "/bin/true", NULL };

    execve(argv[0], argv, argv + 1);
    return 3;
}

static void test_forbidden_calls_named(void **state)
{
    static const struct {
        int (*fn)(void);
        long nr;
        const char *name;
    } cases[] = {
        { call_getppid, SYS_getppid, "getppid" },
        { call_fork, SYS_clone, "clone" },
        { call_packet_socket, SYS_socket, "socket" },
        { call_ioctl, SYS_ioctl, "ioctl" },
        { call_execve, SYS_execve, "execve" },
    };
    struct child c;
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        run_confined(cases[i].fn, &c);
        assert_trapped(&c, cases[i].nr, cases[i].name);
    }
}

/* A thread started before the filter, released after it: TSYNC reached it. */
static int early_pipe[2];

static void *early_thread(void *arg)
{
    char b;

    (void)arg;
    if (read(early_pipe[0], &b, 1) == 1)
        getppid();
    return NULL;
}

static void test_early_thread_confined(void **state)
{
    struct child c;
    char err[256];
    ssize_t n;
    int p[2];
    pid_t pid;
    pthread_t th;
    size_t used = 0;

    (void)state;
    assert_int_equal(pipe(p), 0);
    pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        dup2(p[1], STDERR_FILENO);
        if (pipe(early_pipe) || pthread_create(&th, NULL, early_thread, NULL))
            _exit(98);
        if (sandbox_seccomp(err, sizeof(err)) < 0)
            _exit(99);
        n = write(early_pipe[1], "x", 1);
        pthread_join(th, NULL);
        _exit(n == 1 ? 0 : 97);
    }
    close(p[1]);
    while ((n = read(p[0], c.out + used, sizeof(c.out) - 1 - used)) > 0)
        used += (size_t)n;
    c.out[used] = '\0';
    close(p[0]);
    assert_int_equal(waitpid(pid, &c.status, 0), pid);
    assert_trapped(&c, SYS_getppid, "getppid");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_runas_names_and_numbers),
        cmocka_unit_test(test_runas_errors),
        cmocka_unit_test(test_loop_calls_allowed),
        cmocka_unit_test(test_forbidden_calls_named),
        cmocka_unit_test(test_early_thread_confined),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
