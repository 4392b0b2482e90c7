/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * unixsock.h - unix socket helpers shared by netstackd's transports and its API
 */
#ifndef NETSTACK_UNIXSOCK_H
#define NETSTACK_UNIXSOCK_H

#include <stddef.h>
#include <sys/types.h>

void ns_seterr(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/**
 * struct ns_sockfile - a socket file we created, so only ours is ever unlinked
 * @path:   where it is
 * @dev:    device of the inode bind() created
 * @ino:    that inode: if someone replaced the file since, it is not ours
 */
struct ns_sockfile {
    char path[108];
    dev_t dev;
    ino_t ino;
};

int ns_unix_listen_prepare(const char *path, char *err, size_t errlen);
int ns_unix_addr(const char *path, void *sun, unsigned *len);
int ns_unix_bind(int type, const char *path, struct ns_sockfile *file, char *err, size_t errlen);
void ns_sockfile_remove(struct ns_sockfile *file);
int ns_set_nonblock(int fd);

#endif
