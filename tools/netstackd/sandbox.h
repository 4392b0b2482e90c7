/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * sandbox.h - netstackd confines itself once its sockets and devices are open
 *
 * netstackd calls sandbox_enter() once, after the transport, the stack, the
 * --forward ports and the control socket exist and before the loop runs.
 * From then on the process runs as the --runas user when it was started as
 * root, cannot gain privileges again (no_new_privs), and may only make the
 * system calls its loop needs (a seccomp allow-list; any other one ends the
 * process with one line naming the call). See sandbox.c for what is allowed
 * and why.
 *
 * Only netstackd links this (with libseccomp); the library never does.
 */
#ifndef NETSTACK_SANDBOX_H
#define NETSTACK_SANDBOX_H

#include <stddef.h>
#include <sys/types.h>

#include "netstack.h"

#define SANDBOX_FILES_MAX   4       /* socket files to remove at exit */

/**
 * struct sandbox_user - who to run as, from --runas
 * @uid:    user ID
 * @gid:    group ID (the user's primary group unless given)
 * @name:   for messages: the name, or the number as given
 */
struct sandbox_user {
    uid_t uid;
    gid_t gid;
    char name[64];
};

/**
 * struct sandbox_opts - what the daemon will still do once confined
 * @off:            --no-sandbox: sandbox_enter() does nothing
 * @runas:          --runas, parsed; NULL: the default (nobody, when root)
 * @resolv_conf:    the file the DNS forwarder re-reads whenever it changes
 * @files:          socket files netstackd bound and removes at a clean stop
 * @n_files:        how many
 * @runtime_peers:  sends go to unix sockets found at runtime (--listen-dgram)
 * @runtime_binds:  ports may be bound at runtime (--api-socket's add_hostfwd)
 * @host_resolver:  getaddrinfo() runs on worker threads (--dns-mode host)
 * @log:            where the sandbox's messages go
 * @level:          the daemon's log level
 */
struct sandbox_opts {
    int off;
    const struct sandbox_user *runas;
    const char *resolv_conf;
    const char *files[SANDBOX_FILES_MAX];
    unsigned n_files;
    int runtime_peers;
    int runtime_binds;
    int host_resolver;
    netstack_log_fn log;
    enum netstack_log_level level;
};

int sandbox_parse_user(const char *spec, struct sandbox_user *u, char *err, size_t errlen);
int sandbox_enter(const struct sandbox_opts *o, char *err, size_t errlen);
int sandbox_seccomp(char *err, size_t errlen);

#endif /* NETSTACK_SANDBOX_H */
