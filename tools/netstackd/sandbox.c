/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * sandbox.c - netstackd confines itself once its sockets and devices are open
 *
 * Theory of Operation
 *
 * netstackd reads bytes from a guest, a DNS server and a control socket: a
 * parser bug must not hand the host to whoever sent them. Once everything
 * that needs privileges is open (the tap device, its network namespace, the
 * socket files, the --forward ports), sandbox_enter() takes three steps, in
 * this order, and any failure stops the daemon before it serves a frame:
 *
 * 1. Identity. Started as root, netstackd switches to the --runas user
 *    (default nobody, as passt does): setgroups() to none, setresgid(),
 *    setresuid(), then it checks that every uid and gid is the new one and
 *    that setuid(0) and setgid(0) fail. What the daemon does at runtime with
 *    the rights of that user, and how each case is settled:
 *
 *    - Removing its socket files at a clean stop (DESIGN.md's contract).
 *      They usually live in a directory the new user cannot write (a 0700
 *      temporary directory, /run), or in a sticky /tmp where only their
 *      owner, root, may remove them. So before switching, netstackd forks a
 *      cleaner that stays root: it records each file's inode, closes every
 *      other descriptor, confines itself to a filter of six system calls and
 *      waits for the end of a pipe whose other end only the daemon holds.
 *      When the daemon exits (or dies) the pipe ends, and the cleaner removes
 *      the files that are still the ones bound, as ns_sockfile_remove()
 *      would; on a clean exit the daemon waits for it (atexit), so the files
 *      are gone when netstackd's exit status is. Its only input is that end
 *      of file: nothing the daemon could send reaches it.
 *    - Re-reading --resolv-conf (default /etc/resolv.conf) when it changes.
 *      A forked probe running as the new user tries to open it first. If it
 *      cannot, an explicit --runas is refused at startup; by default the
 *      daemon keeps root (with the rest of the sandbox) and says why, rather
 *      than silently keeping a stale list of nameservers.
 *    - --listen-dgram: every reply goes to the guest's own socket, a path
 *      learned from its first datagram, and connect()/sendto() to a unix
 *      socket needs write permission on it (QEMU binds it as root with its
 *      umask). That cannot be checked in advance, so by default the daemon
 *      keeps root here and says so; with --runas USER it switches, and the
 *      guest's socket must then be writable by USER (QEMU under umask 0).
 *    - Ping sockets need the group in net.ipv4.ping_group_range; the probe
 *      opens one as the new user and a refusal is a warning at startup
 *      (pings from the guest to the outside fail, nothing else does). Raw
 *      sockets, root's fallback, are not kept: they could forge any packet.
 *    - Ports below 1024 bound later through the control API's add_hostfwd:
 *      with --api-socket, CAP_NET_BIND_SERVICE alone is kept across the
 *      switch (PR_SET_KEEPCAPS, then capset()), so a runtime forward works
 *      exactly as a --forward at startup did. Nothing else is kept.
 *
 *    Root that cannot become the user (a user namespace that does not map
 *    it, a container without CAP_SETUID) keeps root with a warning, or fails
 *    with an explicit --runas. Not root: nothing to switch; a --runas naming
 *    someone else is a warning.
 *
 * 2. No new privileges (PR_SET_NO_NEW_PRIVS): nothing executed or mapped can
 *    ever raise them again; the seccomp filter requires it anyway.
 *
 * 3. Seccomp allow-list, loaded on every thread (TSYNC: the host resolver's
 *    workers already run). With --dns-mode host, one lookup of localhost
 *    comes first, so that NSS has read its configuration and loaded its
 *    modules while nothing restricts it. The groups and why each is there:
 *
 *    loop      epoll_wait/epoll_pwait/epoll_pwait2, epoll_ctl, epoll_create1,
 *              eventfd2: the one event loop, its wake-up eventfd and the
 *              host resolver's; read, write, readv, writev, close, lseek,
 *              fcntl (O_NONBLOCK, the F_DUPFD_CLOEXEC reserve descriptor):
 *              every transport (QEMU stream, dgram, vmnet, tap, fd), the log
 *              on stderr; poll, ppoll (glibc's resolver waits with them).
 *    sockets   socket() for AF_UNIX, AF_INET, AF_INET6 and AF_NETLINK only:
 *              NAT flows (TCP, UDP, ping sockets), DNS upstreams, forwards,
 *              getaddrinfo()'s source-address sort (a netlink dump, a UDP
 *              connect()); connect, bind, listen, accept, accept4, shutdown,
 *              getsockopt (SO_ERROR of a connect), setsockopt (SO_LINGER for a
 *              reset, buffers, TTL), getsockname, getpeername, sendto,
 *              recvfrom, sendmsg, recvmsg, sendmmsg, recvmmsg; ioctl() only
 *              for SIOCGIFINDEX/SIOCGIFNAME (an IPv6 nameserver's %scope)
 *              and FIONREAD (glibc's resolver sizing an answer).
 *    files     openat, newfstatat/fstat/statx: resolv.conf re-read, NSS's
 *              files and modules for the host resolver; unlink, unlinkat:
 *              the socket files at exit.
 *    memory    brk, mmap, munmap, mremap, mprotect, madvise: malloc, thread
 *              stacks, an NSS module loaded late.
 *    threads   clone only with CLONE_THREAD (a new thread, never a process:
 *              no fork, so no exec either), futex, set_robust_list, rseq,
 *              sched_getaffinity (malloc's arena count), sched_yield, exit,
 *              gettid, getpid; clone3 fails with ENOSYS, because its flags
 *              are in memory a filter cannot read, and glibc then falls back
 *              to clone.
 *    time      clock_gettime, clock_getres, gettimeofday, time, nanosleep,
 *              clock_nanosleep; getrandom (flow-table hash seeds, the vmnet
 *              handshake).
 *    signals   rt_sigaction, rt_sigprocmask, rt_sigreturn, restart_syscall:
 *              SIGTERM/SIGINT stop the loop; sigaltstack (sanitizer runtimes
 *              give every thread one); tgkill to ourselves only (raise,
 *              abort).
 *    identity  getuid, geteuid, getgid, getegid, uname, sysinfo, and
 *              prlimit64 reading only (new limit NULL): what glibc asks.
 *    exit      exit_group; wait4 for the cleaner at exit.
 *
 * Anything else traps (SCMP_ACT_TRAP): the SIGSYS handler writes
 * "netstackd: sandbox: system call N (name) is not allowed; --no-sandbox
 * turns the sandbox off" with write() alone, from a table of names built
 * before the filter was loaded, and _exit(1)s: a runtime error, as netstackd
 * reports every other. The host resolver's workers block every signal but
 * SIGSYS for that reason. Should a thread block it anyway, the kernel kills
 * the process with SIGSYS itself ("Bad system call"), without the line; so
 * the filter also asks the kernel to log what it refuses
 * (SECCOMP_FILTER_FLAG_LOG), and its audit log names the call. A system
 * call of another ABI (i386 on x86_64) kills.
 *
 * A sanitizer build (NETSTACK_SANITIZED) also allows its runtime's own calls
 * (sanitizer_allowed): its reports must be what ends the daemon there.
 * --no-sandbox skips all three steps, for debugging (valgrind, for one,
 * makes system calls of its own).
 */
#define _GNU_SOURCE /* setresuid(), pipe2(), close_range() */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <linux/capability.h>
#include <netdb.h>
#include <pthread.h>
#include <pwd.h>
#include <sched.h>
#include <seccomp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tools/netstackd/sandbox.h"

#define DEFAULT_USER    "nobody"
#define NOBODY_ID       65534       /* when the system has no such user */
#define NAMES_MAX       512         /* system call numbers named in the SIGSYS line */
#define NAMES_POOL      8192        /* bytes for those names */
#define CLEANER_NAME    "netstackd-clean"

/* System calls allowed whatever their arguments; see the groups above. */
static const char *const allowed[] = {
    /* loop */
    "epoll_wait", "epoll_pwait", "epoll_pwait2", "epoll_ctl", "epoll_create1", "eventfd2",
    "read", "write", "readv", "writev", "close", "lseek", "fcntl", "poll", "ppoll",
    /* sockets */
    "connect", "bind", "listen", "accept", "accept4", "shutdown", "getsockopt", "setsockopt",
    "getsockname", "getpeername", "sendto", "recvfrom", "sendmsg", "recvmsg", "sendmmsg",
    "recvmmsg",
    /* files */
    "openat", "newfstatat", "fstat", "statx", "unlink", "unlinkat",
    "rename", "renameat", "renameat2",      /* a capture's files rotate */
    /* memory */
    "brk", "mmap", "munmap", "mremap", "mprotect", "madvise",
    /* threads */
    "futex", "set_robust_list", "rseq", "sched_getaffinity", "sched_yield", "exit", "gettid",
    "getpid",
    /* time */
    "clock_gettime", "clock_getres", "gettimeofday", "time", "nanosleep", "clock_nanosleep",
    "getrandom",
    /* signals */
    "rt_sigaction", "rt_sigprocmask", "rt_sigreturn", "restart_syscall", "sigaltstack",
    /* identity */
    "getuid", "geteuid", "getgid", "getegid", "uname", "sysinfo",
    /* exit */
    "exit_group", "wait4",
};

#ifdef NETSTACK_SANITIZED
/*
 * A sanitizer build only, never a release: its runtime's own calls, so that
 * its reports are what ends the daemon. At exit LeakSanitizer stops every
 * thread from a tracer it clones without CLONE_THREAD and ptrace()s them,
 * listing /proc/self/task; a report asks whether stderr is a terminal and
 * forks llvm-symbolizer, which runs under this filter too.
 */
static const char *const sanitizer_allowed[] = {
    /* the leak check's tracer */
    "clone", "prctl", "ptrace", "getppid", "open", "getdents", "stat",
    /* reports, and the symbolizer until it reads its first request */
    "ioctl", "fork", "pipe2", "dup2", "execve", "access", "pread64", "arch_prctl",
    "set_tid_address",
};
#endif

/* The cleaner's whole filter: wait for the pipe's end, remove, exit. */
static const char *const cleaner_allowed[] = {
    "read", "newfstatat", "statx", "unlink", "unlinkat", "exit_group",
#ifdef NETSTACK_SANITIZED
    "sigaltstack",
#endif
};

static const int socket_domains[] = { AF_UNIX, AF_INET, AF_INET6, AF_NETLINK };
static const unsigned long ioctl_cmds[] = { SIOCGIFINDEX, SIOCGIFNAME, FIONREAD };

/* Names of system calls by number, for the SIGSYS handler: offsets into a pool. */
static char names_pool[NAMES_POOL];
static uint16_t names_off[NAMES_MAX];     /* 0: no name */

/**
 * struct cleaner_file - a socket file the cleaner removes if it is still ours
 * @path:   as bound
 * @dev:    its device when the daemon switched users
 * @ino:    its inode then: a file that replaced it is someone else's
 */
struct cleaner_file {
    char path[108];
    dev_t dev;
    ino_t ino;
};

/**
 * struct probe - what the new user could do, as errno values (0: it could)
 * @creds:  become that user at all (EINVAL: not mapped in this user
 *          namespace; EPERM: no CAP_SETUID, as in some containers)
 * @resolv: open --resolv-conf for reading (ENOENT counts as could: the file
 *          may appear later, and root would not see it either)
 * @ping:   open a ping socket
 */
struct probe {
    int creds;
    int resolv;
    int ping;
};

static pid_t cleaner_pid = -1;
static int cleaner_fd = -1;

/**
 * sb_err() - format "sandbox: ..." into the caller's buffer
 * @err:    buffer, may be NULL
 * @errlen: its size
 * @rc:     the negative errno to return
 * @fmt:    printf style
 * Return: @rc
 */
static int __attribute__((format(printf, 4, 5))) sb_err(char *err, size_t errlen, int rc,
                                                       const char *fmt, ...)
{
    va_list ap;
    int n;

    if (!err || !errlen)
        return rc;
    n = snprintf(err, errlen, "sandbox: ");
    if (n < 0 || (size_t)n >= errlen)
        return rc;
    va_start(ap, fmt);
    vsnprintf(err + n, errlen - (size_t)n, fmt, ap);
    va_end(ap);
    return rc;
}

/**
 * user_err() - a --runas error, without the prefix: it is a usage error
 * @err:    buffer, may be NULL
 * @errlen: its size
 * @why:    what is wrong with @spec
 * @spec:   the value given
 * Return: -EINVAL
 */
static int user_err(char *err, size_t errlen, const char *why, const char *spec)
{
    if (err && errlen)
        snprintf(err, errlen, "--runas %s: %s", spec, why);
    return -EINVAL;
}

/**
 * sb_log() - one line through the daemon's log callback
 * @o:      options, with the callback and the level
 * @level:  the line's level
 * @fmt:    printf style, without the "sandbox: " prefix
 */
static void __attribute__((format(printf, 3, 4))) sb_log(const struct sandbox_opts *o,
                                                        enum netstack_log_level level,
                                                        const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    int n;

    if (!o->log || level > o->level)
        return;
    n = snprintf(msg, sizeof(msg), "sandbox: ");
    va_start(ap, fmt);
    vsnprintf(msg + n, sizeof(msg) - (size_t)n, fmt, ap);
    va_end(ap);
    o->log(NULL, level, msg);
}

/* --- --runas ----------------------------------------------------------------- */

/**
 * parse_id() - a whole decimal user or group ID
 * @s:      the text
 * @out:    the number
 * Return: 0, -1 if @s is not a number below (uid_t)-1
 */
static int parse_id(const char *s, unsigned long *out)
{
    char *end;

    if (*s < '0' || *s > '9')
        return -1;
    errno = 0;
    *out = strtoul(s, &end, 10);
    return errno || *end || *out >= (unsigned long)(uid_t)-1 ? -1 : 0;
}

/**
 * parse_group() - the GROUP of USER:GROUP, a name or a number
 * @s:      the text
 * @gid:    the group ID
 * Return: 0, or -1 when no such group exists
 */
static int parse_group(const char *s, gid_t *gid)
{
    struct group *g;
    unsigned long v;

    if (parse_id(s, &v) == 0) {
        *gid = (gid_t)v;
        return 0;
    }
    g = getgrnam(s);
    if (!g)
        return -1;
    *gid = g->gr_gid;
    return 0;
}

/**
 * sandbox_parse_user() - --runas USER: a name or a uid, optionally :GROUP
 * @spec:   "nobody", "nobody:nogroup", "65534", "65534:65534"
 * @u:      filled
 * @err:    on failure, why
 * @errlen: its size
 *
 * Without a group, the user's primary group from the passwd database; a
 * numeric uid the database does not know needs its group spelled out.
 * Return: 0 or -EINVAL
 */
int sandbox_parse_user(const char *spec, struct sandbox_user *u, char *err, size_t errlen)
{
    char user[64];
    const char *colon = strchr(spec, ':');
    size_t len = colon ? (size_t)(colon - spec) : strlen(spec);
    struct passwd *pw;
    unsigned long v;
    int numeric;

    if (!len || len >= sizeof(user) || (colon && !colon[1]))
        return user_err(err, errlen, "expected USER, UID, USER:GROUP or UID:GID", spec);
    memcpy(user, spec, len);
    user[len] = '\0';
    numeric = parse_id(user, &v) == 0;
    pw = numeric ? getpwuid((uid_t)v) : getpwnam(user);
    if (!pw && !numeric)
        return user_err(err, errlen, "no such user", spec);
    if (!pw && !colon)
        return user_err(err, errlen, "no user with this uid; give UID:GID", spec);
    u->uid = pw ? pw->pw_uid : (uid_t)v;
    u->gid = pw ? pw->pw_gid : 0;
    if (colon && parse_group(colon + 1, &u->gid) < 0)
        return user_err(err, errlen, "no such group", spec);
    snprintf(u->name, sizeof(u->name), "%s", spec);
    return 0;
}

/**
 * default_user() - nobody, or 65534:65534 where the system has no such user
 * @u:      filled
 */
static void default_user(struct sandbox_user *u)
{
    if (sandbox_parse_user(DEFAULT_USER, u, NULL, 0) == 0)
        return;
    u->uid = NOBODY_ID;
    u->gid = NOBODY_ID;
    snprintf(u->name, sizeof(u->name), "%s", DEFAULT_USER);
}

/* --- The probe: what the new user can do, tried in a child ---------------------- */

/**
 * become() - drop every group, then set every gid and uid to @u's
 * @u:      the user
 * Return: 0 or -errno
 */
static int become(const struct sandbox_user *u)
{
    if (setgroups(0, NULL) < 0 || setresgid(u->gid, u->gid, u->gid) < 0 ||
        setresuid(u->uid, u->uid, u->uid) < 0)
        return -errno;
    return 0;
}

/**
 * probe_run() - the probe child: become @u, try, report on @fd, exit
 * @fd:     the pipe's write end
 * @u:      the user
 * @resolv: the file to open, or NULL
 */
static void __attribute__((noreturn)) probe_run(int fd, const struct sandbox_user *u,
                                                const char *resolv)
{
    struct probe r = { 0, 0, 0 };
    int s;

    s = become(u);
    if (s < 0) {
        r.creds = -s;
        _exit(write(fd, &r, sizeof(r)) == (ssize_t)sizeof(r) ? 0 : 1);
    }
    if (resolv) {
        s = open(resolv, O_RDONLY | O_CLOEXEC);
        r.resolv = s < 0 && errno != ENOENT ? errno : 0;
        if (s >= 0)
            close(s);
    }
    s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, IPPROTO_ICMP);
    r.ping = s < 0 ? errno : 0;
    if (s >= 0)
        close(s);
    _exit(write(fd, &r, sizeof(r)) == (ssize_t)sizeof(r) ? 0 : 1);
}

/**
 * probe_as() - what @u can do, found out by a child that switches to it
 * @u:      the user
 * @resolv: the resolv.conf to read, or NULL
 * @out:    the results
 *
 * Trying is the only exact answer: ACLs, LSMs and the path's every
 * directory all have their say, and access() would answer for root.
 * Return: 0, or -errno when there is no child or it did not report
 */
static int probe_as(const struct sandbox_user *u, const char *resolv, struct probe *out)
{
    int p[2], status = 0, rc;
    ssize_t n;
    pid_t pid;

    if (pipe2(p, O_CLOEXEC) < 0)
        return -errno;
    pid = fork();
    if (pid < 0) {
        rc = -errno;
        close(p[0]);
        close(p[1]);
        return rc;
    }
    if (pid == 0) {
        close(p[0]);
        probe_run(p[1], u, resolv);
    }
    close(p[1]);
    do
        n = read(p[0], out, sizeof(*out));
    while (n < 0 && errno == EINTR);
    close(p[0]);
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
        ;
    return n == (ssize_t)sizeof(*out) ? 0 : -EIO;
}

/* --- The cleaner: removes the socket files once the daemon is gone ------------- */

/**
 * cleaner_wait() - atexit: end the cleaner's pipe and wait for it, so the
 * socket files are gone before the daemon's exit status is known
 */
static void cleaner_wait(void)
{
    if (cleaner_fd < 0)
        return;
    close(cleaner_fd);
    cleaner_fd = -1;
    while (waitpid(cleaner_pid, NULL, 0) < 0 && errno == EINTR)
        ;
}

/**
 * allow_names() - allow @names whatever their arguments
 * @ctx:    the filter
 * @names:  system call names; ones this architecture lacks are skipped
 * @n:      how many
 * Return: 0 or a negative errno from libseccomp
 */
static int allow_names(scmp_filter_ctx ctx, const char *const *names, size_t n)
{
    size_t i;
    int nr, rc;

    for (i = 0; i < n; i++) {
        nr = seccomp_syscall_resolve_name(names[i]);
        if (nr < 0)
            continue;
        rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, nr, 0);
        if (rc < 0)
            return rc;
    }
    return 0;
}

/**
 * new_filter() - a filter allowing exactly @names, @def for the rest
 * @names:  system call names; ones this architecture lacks are skipped
 * @n:      how many
 * @def:    the default action
 * Return: the filter context (not loaded), or NULL
 */
static scmp_filter_ctx new_filter(const char *const *names, size_t n, uint32_t def)
{
    scmp_filter_ctx ctx = seccomp_init(def);

    if (ctx && allow_names(ctx, names, n) < 0) {
        seccomp_release(ctx);
        return NULL;
    }
    return ctx;
}

/**
 * cleaner_confine() - the cleaner keeps only its pipe (as fd 3), ignores the
 * signals that stop the daemon, and allows itself six system calls
 * @fd:     the pipe's read end
 *
 * Ignoring SIGTERM and SIGINT matters: a terminal's ^C or a service manager
 * signals the whole group, and the cleaner must outlive the daemon. A filter
 * that cannot be loaded leaves it unconfined rather than leaving the files.
 */
static void cleaner_confine(int fd)
{
    static const int ignored[] = { SIGTERM, SIGINT, SIGHUP, SIGQUIT, SIGPIPE, SIGUSR1, SIGUSR2 };
    scmp_filter_ctx ctx;
    size_t i;

    for (i = 0; i < sizeof(ignored) / sizeof(ignored[0]); i++)
        signal(ignored[i], SIG_IGN);
    if (fd != 3 && dup2(fd, 3) == 3)
        close(fd);
    close_range(4, ~0u, 0);
    prctl(PR_SET_NAME, CLEANER_NAME, 0, 0, 0);
    prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
    ctx = new_filter(cleaner_allowed, sizeof(cleaner_allowed) / sizeof(cleaner_allowed[0]),
                     SCMP_ACT_KILL_PROCESS);
    if (ctx) {
        seccomp_load(ctx);
        seccomp_release(ctx);
    }
}

/**
 * cleaner_run() - the cleaner: wait for the daemon to go, remove its files
 * @fd:     the pipe's read end
 * @f:      the files
 * @n:      how many
 */
static void __attribute__((noreturn)) cleaner_run(int fd, const struct cleaner_file *f,
                                                  unsigned n)
{
    struct stat st;
    char buf[16];
    unsigned i;
    ssize_t r;

    cleaner_confine(fd);
    do
        r = read(3, buf, sizeof(buf));
    while (r > 0 || (r < 0 && errno == EINTR));
    for (i = 0; i < n; i++) {
        if (lstat(f[i].path, &st) == 0 && S_ISSOCK(st.st_mode) && st.st_dev == f[i].dev &&
            st.st_ino == f[i].ino)
            unlink(f[i].path);
    }
    _exit(0);
}

/**
 * cleaner_start() - fork the cleaner for the socket files in @o
 * @o:      options
 * @err:    on failure, why
 * @errlen: its size
 * Return: 0 (also when there is nothing to clean), or -errno
 */
static int cleaner_start(const struct sandbox_opts *o, char *err, size_t errlen)
{
    static struct cleaner_file files[SANDBOX_FILES_MAX];
    unsigned i, n = 0;
    struct stat st;
    int p[2], rc;
    pid_t pid;

    for (i = 0; i < o->n_files && i < SANDBOX_FILES_MAX; i++) {
        if (strlen(o->files[i]) >= sizeof(files[n].path) || lstat(o->files[i], &st) < 0 ||
            !S_ISSOCK(st.st_mode))
            continue;
        snprintf(files[n].path, sizeof(files[n].path), "%s", o->files[i]);
        files[n].dev = st.st_dev;
        files[n].ino = st.st_ino;
        n++;
    }
    if (!n)
        return 0;
    if (pipe2(p, O_CLOEXEC) < 0)
        return sb_err(err, errlen, -errno, "pipe2: %s", strerror(errno));
    pid = fork();
    if (pid < 0) {
        rc = -errno;
        close(p[0]);
        close(p[1]);
        return sb_err(err, errlen, rc, "fork: %s", strerror(-rc));
    }
    if (pid == 0) {
        close(p[1]);
        cleaner_run(p[0], files, n);
    }
    close(p[0]);
    cleaner_pid = pid;
    cleaner_fd = p[1];
    atexit(cleaner_wait);
    return 0;
}

/* --- Switching users ---------------------------------------------------------- */

/**
 * caps_keep() - this thread's capabilities become exactly @mask, permitted
 * and effective, none inheritable
 * @mask:   CAP_TO_MASK() bits of capabilities 0 to 31
 * Return: 0 or -errno
 */
static int caps_keep(uint32_t mask)
{
    struct __user_cap_header_struct h = { .version = _LINUX_CAPABILITY_VERSION_3, .pid = 0 };
    struct __user_cap_data_struct d[_LINUX_CAPABILITY_U32S_3];

    memset(d, 0, sizeof(d));
    d[0].permitted = d[0].effective = mask;
    return syscall(SYS_capset, &h, d) < 0 ? -errno : 0;
}

/**
 * creds_check() - every uid and gid is @u's, no group is left, and root
 * cannot be had back
 * @u:      the user switched to
 * Return: 0, or -EPERM
 */
static int creds_check(const struct sandbox_user *u)
{
    uid_t r, e, s;
    gid_t rg, eg, sg;

    if (getresuid(&r, &e, &s) < 0 || r != u->uid || e != u->uid || s != u->uid)
        return -EPERM;
    if (getresgid(&rg, &eg, &sg) < 0 || rg != u->gid || eg != u->gid || sg != u->gid)
        return -EPERM;
    if (getgroups(0, NULL) != 0)
        return -EPERM;
    if (setuid(0) != -1 || (u->gid != 0 && setgid(0) != -1))
        return -EPERM;
    return 0;
}

/**
 * creds_switch() - become @u for good, keeping CAP_NET_BIND_SERVICE if asked
 * @u:      the user
 * @keep_bind: runtime forwards may bind ports below 1024
 * @err:    on failure, why
 * @errlen: its size
 *
 * glibc applies setgroups(), setresgid() and setresuid() to every thread;
 * PR_SET_KEEPCAPS and capset() are this thread's, the only one that binds.
 * Return: 0 or -errno
 */
static int creds_switch(const struct sandbox_user *u, int keep_bind, char *err, size_t errlen)
{
    int rc;

    if (keep_bind && prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) < 0)
        return sb_err(err, errlen, -errno, "prctl(PR_SET_KEEPCAPS): %s", strerror(errno));
    rc = become(u);
    if (rc < 0)
        return sb_err(err, errlen, rc, "switching to %s (uid %u, gid %u): %s", u->name,
                      (unsigned)u->uid, (unsigned)u->gid, strerror(-rc));
    if (keep_bind) {
        rc = caps_keep(CAP_TO_MASK(CAP_NET_BIND_SERVICE));
        prctl(PR_SET_KEEPCAPS, 0, 0, 0, 0);
        if (rc < 0)
            return sb_err(err, errlen, rc, "capset: %s", strerror(-rc));
    }
    if (creds_check(u) < 0)
        return sb_err(err, errlen, -EPERM, "still able to regain root after switching to %s",
                      u->name);
    return 0;
}

/**
 * target_user() - whom to become, if anyone
 * @o:      options
 * @u:      filled when the return is 1
 *
 * Only root switches. By default --listen-dgram keeps root: its replies go
 * to a socket path learned at runtime (see the Theory of Operation).
 * Return: 1 to try @u, 0 to stay who we are
 */
static int target_user(const struct sandbox_opts *o, struct sandbox_user *u)
{
    if (geteuid() != 0) {
        if (o->runas && (o->runas->uid != geteuid() || o->runas->gid != getegid()))
            sb_log(o, NETSTACK_LOG_WARN, "--runas %s ignored: not started as root",
                   o->runas->name);
        return 0;
    }
    if (o->runas)
        *u = *o->runas;
    else
        default_user(u);
    if (u->uid == 0) {
        sb_log(o, NETSTACK_LOG_INFO, "--runas %s: staying root", u->name);
        return 0;
    }
    if (!o->runas && o->runtime_peers) {
        sb_log(o, NETSTACK_LOG_INFO, "staying root: with --listen-dgram every reply goes to the "
               "guest's own socket, found at runtime; --runas USER switches anyway (that socket "
               "must then be writable by USER)");
        return 0;
    }
    return 1;
}

/**
 * stay_reason() - why becoming @u would break the daemon, if it would
 * @o:      options
 * @u:      the user
 * @p:      what the probe found
 * @buf:    for the reason
 * @len:    its size
 * Return: @buf, or NULL when nothing stands in the way
 */
static const char *stay_reason(const struct sandbox_opts *o, const struct sandbox_user *u,
                               const struct probe *p, char *buf, size_t len)
{
    if (p->creds)
        snprintf(buf, len, "cannot switch to %s (uid %u, gid %u): %s", u->name,
                 (unsigned)u->uid, (unsigned)u->gid, strerror(p->creds));
    else if (p->resolv)
        snprintf(buf, len, "%s cannot read %s (%s), which is re-read whenever it changes",
                 u->name, o->resolv_conf, strerror(p->resolv));
    else
        return NULL;
    return buf;
}

/**
 * stay_root() - @u will not do: refuse an explicit --runas, or say why the
 * default switch is not made
 * @o:      options
 * @u:      the user
 * @why:    from stay_reason()
 * @err:    on failure, why
 * @errlen: its size
 * Return: 0 (staying root), or -EACCES
 */
static int stay_root(const struct sandbox_opts *o, const struct sandbox_user *u,
                     const char *why, char *err, size_t errlen)
{
    if (o->runas)
        return sb_err(err, errlen, -EACCES, "--runas %s: %s", u->name, why);
    sb_log(o, NETSTACK_LOG_WARN, "staying root: %s; --runas root keeps root without this warning",
           why);
    return 0;
}

/**
 * identity() - step 1: become the --runas user when started as root
 * @o:      options
 * @err:    on failure, why
 * @errlen: its size
 * Return: 0 or -errno
 */
static int identity(const struct sandbox_opts *o, char *err, size_t errlen)
{
    struct sandbox_user u;
    char why[512];
    struct probe p;
    int rc;

    if (!target_user(o, &u))
        return 0;
    rc = probe_as(&u, o->resolv_conf, &p);
    if (rc < 0)
        return sb_err(err, errlen, rc, "trying %s: %s", u.name, strerror(-rc));
    if (stay_reason(o, &u, &p, why, sizeof(why)))
        return stay_root(o, &u, why, err, errlen);
    if (p.ping == EACCES)
        sb_log(o, NETSTACK_LOG_WARN, "gid %u is outside net.ipv4.ping_group_range: the guest's "
               "pings to other hosts will go unanswered until the range includes it",
               (unsigned)u.gid);
    rc = cleaner_start(o, err, errlen);
    if (rc == 0)
        rc = creds_switch(&u, o->runtime_binds, err, errlen);
    if (rc < 0)
        return rc;
    sb_log(o, NETSTACK_LOG_INFO, "running as %s (uid %u, gid %u)%s", u.name, (unsigned)u.uid,
           (unsigned)u.gid, o->runtime_binds ? ", keeping CAP_NET_BIND_SERVICE for add_hostfwd" :
           ", no capabilities");
    return 0;
}

/* --- Seccomp ------------------------------------------------------------------ */

/**
 * names_build() - the name of every system call number, for on_sigsys()
 *
 * libseccomp's lookup allocates: it cannot run in a signal handler.
 */
static void names_build(void)
{
    size_t used = 1, len;
    char *name;
    int nr;

    for (nr = 0; nr < NAMES_MAX; nr++) {
        name = seccomp_syscall_resolve_num_arch(SCMP_ARCH_NATIVE, nr);
        if (!name)
            continue;
        len = strlen(name) + 1;
        if (used + len <= sizeof(names_pool)) {
            memcpy(names_pool + used, name, len);
            names_off[nr] = (uint16_t)used;
            used += len;
        }
        free(name);
    }
}

/**
 * put_str() - append @s to @buf at @n, async-signal-safe
 * Return: the new length
 */
static size_t put_str(char *buf, size_t n, size_t size, const char *s)
{
    while (*s && n < size)
        buf[n++] = *s++;
    return n;
}

/**
 * put_uint() - append @v in decimal to @buf at @n, async-signal-safe
 * Return: the new length
 */
static size_t put_uint(char *buf, size_t n, size_t size, unsigned v)
{
    char digits[12];
    size_t k = 0;

    do
        digits[k++] = (char)('0' + v % 10);
    while ((v /= 10) && k < sizeof(digits));
    while (k && n < size)
        buf[n++] = digits[--k];
    return n;
}

/**
 * on_sigsys() - a system call outside the list: say which, and exit 1
 * @sig:    SIGSYS
 * @si:     si_syscall is the call's number
 * @uc:     unused
 *
 * Only write() and _exit(), both allowed by the filter.
 */
static void on_sigsys(int sig, siginfo_t *si, void *uc)
{
    int nr = si->si_syscall;
    const char *name = nr >= 0 && nr < NAMES_MAX && names_off[nr] ? names_pool + names_off[nr]
                                                                  : "unknown";
    char line[192];
    size_t n = 0;
    ssize_t w;

    (void)sig;
    (void)uc;
    n = put_str(line, n, sizeof(line), "netstackd: sandbox: system call ");
    n = put_uint(line, n, sizeof(line), (unsigned)nr);
    n = put_str(line, n, sizeof(line), " (");
    n = put_str(line, n, sizeof(line), name);
    n = put_str(line, n, sizeof(line), ") is not allowed; --no-sandbox turns the sandbox off\n");
    w = write(STDERR_FILENO, line, n);
    (void)w;
    _exit(1);
}

/**
 * trap_sigsys() - run on_sigsys() for SIGSYS, which this thread must not block
 * Return: 0 or -errno
 */
static int trap_sigsys(void)
{
    struct sigaction sa;
    sigset_t set;

    memset(&sa, 0, sizeof(sa));
    sigemptyset(&sa.sa_mask);
    sa.sa_sigaction = on_sigsys;
    sa.sa_flags = SA_SIGINFO;
    if (sigaction(SIGSYS, &sa, NULL) < 0)
        return -errno;
    sigemptyset(&set);
    sigaddset(&set, SIGSYS);
    return -pthread_sigmask(SIG_UNBLOCK, &set, NULL);
}

/**
 * add_arg_rules() - the calls allowed only with some arguments
 * @ctx:    the filter
 * Return: 0 or a negative errno from libseccomp
 *
 * clone's flags are its first argument on the architectures netstack runs
 * on (s390 swaps the first two). A sanitizer build allows its runtime's
 * calls instead, clone with any flags among them.
 */
static int add_arg_rules(scmp_filter_ctx ctx)
{
    size_t i;
    int rc = 0;

    for (i = 0; !rc && i < sizeof(socket_domains) / sizeof(socket_domains[0]); i++)
        rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(socket), 1,
                              SCMP_A0(SCMP_CMP_EQ, (scmp_datum_t)socket_domains[i], 0));
    for (i = 0; !rc && i < sizeof(ioctl_cmds) / sizeof(ioctl_cmds[0]); i++)
        rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(ioctl), 1,
                              SCMP_A1(SCMP_CMP_MASKED_EQ, 0xffffffffu, ioctl_cmds[i]));
#if defined(NETSTACK_SANITIZED)
    if (!rc)        /* clone with any flags among them */
        rc = allow_names(ctx, sanitizer_allowed,
                         sizeof(sanitizer_allowed) / sizeof(sanitizer_allowed[0]));
#elif defined(__s390__) || defined(__s390x__)
    if (!rc)
        rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(clone), 1,
                              SCMP_A1(SCMP_CMP_MASKED_EQ, CLONE_THREAD, CLONE_THREAD));
#else
    if (!rc)
        rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(clone), 1,
                              SCMP_A0(SCMP_CMP_MASKED_EQ, CLONE_THREAD, CLONE_THREAD));
#endif
    if (!rc)
        rc = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(ENOSYS), SCMP_SYS(clone3), 0);
    if (!rc)
        rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(tgkill), 1,
                              SCMP_A0(SCMP_CMP_EQ, (scmp_datum_t)getpid(), 0));
    if (!rc)
        rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(prlimit64), 1,
                              SCMP_A2(SCMP_CMP_EQ, 0, 0));
    return rc;
}

/**
 * sandbox_seccomp() - steps 2 and 3: no new privileges, then the allow-list,
 * on every thread of the process
 * @err:    on failure, why
 * @errlen: its size
 *
 * Also what the unit test installs in a child, to see a forbidden call end it.
 * Return: 0 or -errno
 */
int sandbox_seccomp(char *err, size_t errlen)
{
    scmp_filter_ctx ctx;
    int rc;

    names_build();
    rc = trap_sigsys();
    if (rc < 0)
        return sb_err(err, errlen, rc, "SIGSYS handler: %s", strerror(-rc));
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
        return sb_err(err, errlen, -errno, "prctl(PR_SET_NO_NEW_PRIVS): %s", strerror(errno));
    ctx = new_filter(allowed, sizeof(allowed) / sizeof(allowed[0]), SCMP_ACT_TRAP);
    if (!ctx)
        return sb_err(err, errlen, -ENOMEM, "seccomp: cannot build the filter");
    rc = seccomp_attr_set(ctx, SCMP_FLTATR_ACT_BADARCH, SCMP_ACT_KILL_PROCESS);
    if (!rc)
        rc = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_TSYNC, 1);
    if (!rc)
        rc = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_LOG, 1);
    if (!rc)
        rc = add_arg_rules(ctx);
    if (!rc)
        rc = seccomp_load(ctx);
    seccomp_release(ctx);
    if (rc < 0)
        return sb_err(err, errlen, rc, "seccomp: loading the filter: %s", strerror(-rc));
    return 0;
}

/**
 * resolver_warm() - one lookup before the filter, so NSS has read its
 * configuration and loaded its modules while nothing restricts it
 */
static void resolver_warm(void)
{
    struct addrinfo hints = { .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM };
    struct addrinfo *res = NULL;

    if (getaddrinfo("localhost", NULL, &hints, &res) == 0)
        freeaddrinfo(res);
}

/**
 * sandbox_enter() - confine netstackd: user, no new privileges, seccomp
 * @o:      what the daemon still does; see struct sandbox_opts
 * @err:    on failure, "sandbox: cause" for die()
 * @errlen: its size
 *
 * Call once, with everything privileged already open and before the loop
 * runs. Return: 0 or -errno (the daemon must not serve then)
 */
int sandbox_enter(const struct sandbox_opts *o, char *err, size_t errlen)
{
    int rc;

    if (o->off) {
        sb_log(o, NETSTACK_LOG_INFO, "off (--no-sandbox)");
        return 0;
    }
    rc = identity(o, err, errlen);
    if (rc < 0)
        return rc;
    if (o->host_resolver)
        resolver_warm();
    rc = sandbox_seccomp(err, errlen);
    if (rc == 0)
        sb_log(o, NETSTACK_LOG_DEBUG, "seccomp allow-list loaded, no new privileges");
    return rc;
}
