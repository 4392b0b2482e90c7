/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * resolv.c - the host's nameservers, read from resolv.conf and followed live
 *
 * Theory of Operation
 * ===================
 *
 * ns_resolv_parse() reads the "nameserver" lines of resolv.conf text the way
 * glibc's resolver does (resolv.conf(5)): the keyword starts the line and is
 * followed by a blank, then one address; anything after the address is
 * ignored. Lines starting with ';' or '#' are comments, and every other
 * keyword (search, domain, options, sortlist) is not ours to use. An address
 * is IPv4 or IPv6, an IPv6 one optionally with a "%scope" naming an interface
 * (if_nametoindex()) or giving its index. Malformed addresses are skipped,
 * and servers past NS_RESOLV_MAX are ignored. Every server gets port 53
 * (RFC 1035 section 4.2).
 *
 * struct ns_resolv_file follows a file that can change under us: DHCP
 * clients, VPN clients and systemd-resolved rewrite it in place or replace it
 * by rename(). ns_resolv_file_refresh() stat()s the path at most once per
 * second of the caller's clock (now_ms; no clock is read here) and re-reads
 * it when its device, inode, size or mtime differ from the last read. What
 * was read is identified by fstat() on the open file, so a rename between
 * stat() and open() is simply seen again at the next check.
 *
 * The last good list is kept when the file is missing or unreadable, and when
 * it holds no nameserver at all (as it does for a moment while being
 * rewritten): the forwarder always has somewhere to send queries once it has
 * ever had one. The path is retried at every check, so a file that comes
 * back is read again.
 */

#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "dns/resolv.h"

#define RESOLV_PORT         53          /* RFC 1035 section 4.2 */
#define RESOLV_CHECK_MS     1000        /* at most one stat() per second */
#define RESOLV_FILE_MAX     65536       /* read no more of a resolv.conf */
#define RESOLV_ADDR_MAX     128         /* an address with a %scope */

/* --- Text ------------------------------------------------------------------ */

/**
 * resolv_is_blank() - a separator inside a line?
 * @c:      character
 *
 * Return: 1 for space or tab
 */
static int resolv_is_blank(char c)
{
    return c == ' ' || c == '\t';
}

/**
 * resolv_scope() - the scope of an IPv6 address, "%" then an interface name
 * or index
 * @s:      text after the '%', NUL-terminated
 *
 * Return: the interface index, 0 if @s names none
 */
static uint32_t resolv_scope(const char *s)
{
    unsigned long v;
    char *end;

    if (!*s)
        return 0;
    v = if_nametoindex(s);
    if (v)
        return (uint32_t)v;
    errno = 0;
    v = strtoul(s, &end, 10);
    if (errno || *end || v == 0 || v > UINT32_MAX)
        return 0;
    return (uint32_t)v;
}

/**
 * resolv_addr() - one nameserver address, appended to @out
 * @s:      address text, NUL-terminated; modified
 * @out:    list, not full
 *
 * Return: 0, -1 if @s is not an address
 */
static int resolv_addr(char *s, struct ns_resolv *out)
{
    struct sockaddr_storage *ss = &out->server[out->n];
    struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)ss;
    struct sockaddr_in *sin = (struct sockaddr_in *)ss;
    char *pct = strchr(s, '%');

    memset(ss, 0, sizeof(*ss));
    if (!pct && inet_pton(AF_INET, s, &sin->sin_addr) == 1) {
        sin->sin_family = AF_INET;
        sin->sin_port = htons(RESOLV_PORT);
        out->len[out->n++] = sizeof(*sin);
        return 0;
    }
    if (pct)
        *pct = '\0';
    if (inet_pton(AF_INET6, s, &sin6->sin6_addr) != 1)
        return -1;
    if (pct && !(sin6->sin6_scope_id = resolv_scope(pct + 1)))
        return -1;
    sin6->sin6_family = AF_INET6;
    sin6->sin6_port = htons(RESOLV_PORT);
    out->len[out->n++] = sizeof(*sin6);
    return 0;
}

/**
 * resolv_line() - one line of resolv.conf: a server if it is a nameserver line
 * @p:      the line, without its newline
 * @len:    its length
 * @out:    list
 */
static void resolv_line(const char *p, size_t len, struct ns_resolv *out)
{
    static const char kw[] = "nameserver";
    char addr[RESOLV_ADDR_MAX];
    size_t i = sizeof(kw) - 1, start, n;

    if (out->n >= NS_RESOLV_MAX || len <= i || memcmp(p, kw, i) || !resolv_is_blank(p[i]))
        return;
    while (i < len && resolv_is_blank(p[i]))
        i++;
    start = i;
    while (i < len && !resolv_is_blank(p[i]) && p[i] != '\r' && p[i] != ';' && p[i] != '#')
        i++;
    n = i - start;
    if (!n || n >= sizeof(addr))
        return;
    memcpy(addr, p + start, n);
    addr[n] = '\0';
    resolv_addr(addr, out);
}

/**
 * ns_resolv_parse() - the nameservers of resolv.conf text (resolv.conf(5))
 * @text:   the file's contents, not necessarily NUL-terminated
 * @len:    their length
 * @out:    the servers found, in file order
 *
 * Return: the number of servers found
 */
unsigned ns_resolv_parse(const char *text, size_t len, struct ns_resolv *out)
{
    const char *end, *nl;

    memset(out, 0, sizeof(*out));
    if (!text)
        return 0;
    end = text + len;
    while (text < end) {
        nl = memchr(text, '\n', (size_t)(end - text));
        if (!nl)
            nl = end;
        resolv_line(text, (size_t)(nl - text), out);
        text = nl + (nl < end);
    }
    return out->n;
}

/* --- The file ------------------------------------------------------------- */

/**
 * resolv_same() - do two lists hold the same servers in the same order?
 * @a:      one list
 * @b:      the other
 *
 * Return: 1 if they do
 */
static int resolv_same(const struct ns_resolv *a, const struct ns_resolv *b)
{
    unsigned i;

    if (a->n != b->n)
        return 0;
    for (i = 0; i < a->n; i++) {
        if (a->len[i] != b->len[i] || memcmp(&a->server[i], &b->server[i], a->len[i]))
            return 0;
    }
    return 1;
}

/**
 * resolv_changed() - is @st another file, or the same one changed, since @f's read?
 * @f:      file state
 * @st:     the path's stat() now
 *
 * Return: 1 if it must be read again
 */
static int resolv_changed(const struct ns_resolv_file *f, const struct stat *st)
{
    return !f->have_st || f->st.st_dev != st->st_dev || f->st.st_ino != st->st_ino ||
           f->st.st_size != st->st_size || f->st.st_mtim.tv_sec != st->st_mtim.tv_sec ||
           f->st.st_mtim.tv_nsec != st->st_mtim.tv_nsec;
}

/**
 * resolv_read() - read and parse the file
 * @f:      file state; @f->st is set to what was read
 * @out:    the servers in it
 *
 * Return: 0, -errno if it cannot be read
 */
static int resolv_read(struct ns_resolv_file *f, struct ns_resolv *out)
{
    char *buf = malloc(RESOLV_FILE_MAX);
    size_t have = 0;
    ssize_t n;
    int fd, ret = 0;

    if (!buf)
        return -ENOMEM;
    fd = open(f->path, O_RDONLY | O_CLOEXEC);
    if (fd < 0 || fstat(fd, &f->st) < 0) {
        ret = -errno;
        goto out;
    }
    while (have < RESOLV_FILE_MAX) {
        n = read(fd, buf + have, RESOLV_FILE_MAX - have);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            ret = -errno;
            goto out;
        }
        if (n == 0)
            break;
        have += (size_t)n;
    }
    ns_resolv_parse(buf, have, out);
    f->have_st = 1;
out:
    if (fd >= 0)
        close(fd);
    free(buf);
    return ret;
}

/**
 * resolv_load() - read the file and take its servers, if it has any
 * @f:      file state
 *
 * Return: 1 if the servers changed, 0 if not, -errno if the file cannot be read
 */
static int resolv_load(struct ns_resolv_file *f)
{
    struct ns_resolv got;
    int ret;

    f->have_st = 0;
    ret = resolv_read(f, &got);
    if (ret < 0)
        return ret;
    if (!got.n || resolv_same(&got, &f->servers))
        return 0;
    f->servers = got;
    return 1;
}

/**
 * ns_resolv_file_init() - remember @path and read it now
 * @f:      file state
 * @path:   the resolv.conf to follow
 * @now_ms: the caller's clock
 *
 * Return: 0, -ENAMETOOLONG, or -errno if it cannot be read now (retried by
 * ns_resolv_file_refresh())
 */
int ns_resolv_file_init(struct ns_resolv_file *f, const char *path, uint64_t now_ms)
{
    size_t n = path ? strlen(path) : 0;
    int ret;

    memset(f, 0, sizeof(*f));
    if (!n || n >= sizeof(f->path))
        return n ? -ENAMETOOLONG : -EINVAL;
    memcpy(f->path, path, n + 1);
    f->checked_ms = now_ms;
    ret = resolv_load(f);
    return ret < 0 ? ret : 0;
}

/**
 * ns_resolv_file_refresh() - re-read the file if it changed, at most once per second
 * @f:      file state
 * @now_ms: the caller's clock, never going back
 *
 * Return: 1 if the servers changed, 0 if not
 */
int ns_resolv_file_refresh(struct ns_resolv_file *f, uint64_t now_ms)
{
    struct stat st;

    if (!f->path[0] || now_ms - f->checked_ms < RESOLV_CHECK_MS)
        return 0;
    f->checked_ms = now_ms;
    if (stat(f->path, &st) < 0) {
        f->have_st = 0;
        return 0;
    }
    if (!resolv_changed(f, &st))
        return 0;
    return resolv_load(f) > 0;
}
