/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * unixsock.c - the unix socket chores netstackd's transports and control API share
 *
 * Binding with a checked path length, replacing a stale socket left by a
 * killed daemon but never anything else at the path, and on the way out
 * unlinking only the socket file this process bound (a second daemon may
 * have replaced it since).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "tools/netstackd/unixsock.h"

/**
 * ns_seterr() - format an open-time error into the caller's buffer
 * @err:    buffer, may be NULL
 * @errlen: its size
 * @fmt:    "function: cause", printf style
 */
void ns_seterr(char *err, size_t errlen, const char *fmt, ...)
{
    va_list ap;

    if (!err || !errlen)
        return;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
}

/**
 * ns_set_nonblock() - set O_NONBLOCK on @fd
 * Return: 0 or -errno
 */
int ns_set_nonblock(int fd)
{
    int fl = fcntl(fd, F_GETFL);

    if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0)
        return -errno;
    return 0;
}

/**
 * ns_unix_addr() - build a sockaddr_un for @path
 * @path:   filesystem path
 * @sun:    struct sockaddr_un to fill
 * @len:    its meaningful length
 *
 * Return: 0, -ENAMETOOLONG if the path does not fit sun_path with its NUL
 */
int ns_unix_addr(const char *path, void *sun, unsigned *len)
{
    struct sockaddr_un *a = sun;
    size_t plen = strlen(path);

    if (plen == 0 || plen >= sizeof(a->sun_path))
        return -ENAMETOOLONG;
    memset(a, 0, sizeof(*a));
    a->sun_family = AF_UNIX;
    memcpy(a->sun_path, path, plen);
    *len = (unsigned)(offsetof(struct sockaddr_un, sun_path) + plen + 1);
    return 0;
}

/**
 * ns_unix_listen_prepare() - make @path free for bind(), removing a stale socket
 * @path:   where the socket will live
 * @err:    error message buffer
 * @errlen: its size
 *
 * A socket file left by a daemon that was killed is removed; anything else at
 * the path (a regular file, a directory) is the user's and is never touched.
 * Return: 0 or -errno with @err set
 */
int ns_unix_listen_prepare(const char *path, char *err, size_t errlen)
{
    struct stat st;

    if (lstat(path, &st) < 0) {
        if (errno == ENOENT)
            return 0;
        ns_seterr(err, errlen, "stat: %s: %s", path, strerror(errno));
        return -errno;
    }
    if (!S_ISSOCK(st.st_mode)) {
        ns_seterr(err, errlen, "bind: %s exists and is not a socket; refusing to replace it",
                            path);
        return -EEXIST;
    }
    if (unlink(path) < 0 && errno != ENOENT) {
        ns_seterr(err, errlen, "unlink: stale socket %s: %s", path, strerror(errno));
        return -errno;
    }
    return 0;
}

/**
 * ns_unix_bind() - a non-blocking unix socket bound at @path
 * @type:   SOCK_STREAM or SOCK_DGRAM
 * @path:   where to bind; a stale socket there is replaced
 * @file:   filled with the socket file's identity, for ns_sockfile_remove()
 * @err:    error message buffer
 * @errlen: its size
 *
 * Return: the fd, or -errno with @err set
 */
int ns_unix_bind(int type, const char *path, struct ns_sockfile *file, char *err, size_t errlen)
{
    struct sockaddr_un sun;
    struct stat st;
    unsigned len;
    int fd, rc;

    if (ns_unix_addr(path, &sun, &len) < 0) {
        ns_seterr(err, errlen, "bind: %s: path empty or longer than %zu bytes", path,
                            sizeof(sun.sun_path) - 1);
        return -ENAMETOOLONG;
    }
    rc = ns_unix_listen_prepare(path, err, errlen);
    if (rc < 0)
        return rc;
    fd = socket(AF_UNIX, type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        rc = -errno;
        ns_seterr(err, errlen, "socket: %s", strerror(errno));
        return rc;
    }
    if (bind(fd, (struct sockaddr *)&sun, len) < 0) {
        rc = -errno;
        ns_seterr(err, errlen, "bind: %s: %s", path, strerror(errno));
        close(fd);
        return rc;
    }
    snprintf(file->path, sizeof(file->path), "%s", path);
    if (lstat(path, &st) == 0) {
        file->dev = st.st_dev;
        file->ino = st.st_ino;
    }
    return fd;
}

/**
 * ns_sockfile_remove() - unlink the socket file we bound, if it is still ours
 * @file:   as filled by ns_unix_bind(); emptied so a second call does nothing
 *
 * A second daemon started on the same path replaces our file; removing its
 * socket on our way out would cut its guest off, so compare the inode first.
 */
void ns_sockfile_remove(struct ns_sockfile *file)
{
    struct stat st;

    if (!file->path[0])
        return;
    if (lstat(file->path, &st) == 0 && S_ISSOCK(st.st_mode) && st.st_dev == file->dev &&
        st.st_ino == file->ino)
        unlink(file->path);
    file->path[0] = '\0';
}
