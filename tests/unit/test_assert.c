/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * test_assert.c - NS_ASSERT: a broken invariant stops the process at once in
 * a debug build, with the condition and where it failed on stderr
 *
 * The library's own invariants (a flow paused twice, a list entry unlinked
 * twice) are checked where NDEBUG is not set: the Debug and fuzzing builds.
 * This suite is always compiled as a debug build, whatever the build type.
 */
#undef NDEBUG
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include "netstack/log.h"
#include "tests/unit/harness.h"

static void a_holding_invariant_passes(void **state)
{
    int x = 1;

    NS_ASSERT(x == 1);
}

/**
 * broken() - in a child: NS_ASSERT of a false condition; Return: its stderr and status.
 */
static int broken(char *err, size_t len)
{
    int p[2], status;
    ssize_t n;
    pid_t pid;

    assert_int_equal(pipe(p), 0);
    pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        int flow_paused = 1;

        dup2(p[1], 2);
        NS_ASSERT(!flow_paused);
        _exit(0);
    }
    close(p[1]);
    n = read(p[0], err, len - 1);
    err[n > 0 ? n : 0] = '\0';
    close(p[0]);
    assert_int_equal(waitpid(pid, &status, 0), pid);
    return status;
}

static void a_broken_invariant_aborts_and_says_which(void **state)
{
    char err[512];
    int status = broken(err, sizeof(err));

    assert_true(WIFSIGNALED(status));
    assert_int_equal(WTERMSIG(status), SIGABRT);
    assert_non_null(strstr(err, "invariant broken: !flow_paused"));
    assert_non_null(strstr(err, "test_assert.c"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(a_holding_invariant_passes),
        cmocka_unit_test(a_broken_invariant_aborts_and_says_which),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
