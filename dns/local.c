/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * local.c - names the stack answers itself: built-in, --dns-name, hosts file
 *
 * Theory of Operation
 * ===================
 *
 * A hash table with chaining maps a name to up to NS_DNS_ADDRS_MAX IPv4 and
 * NS_DNS_ADDRS_MAX IPv6 addresses. Names are stored in a canonical form: the
 * trailing dot removed and letters lowercased, since DNS names compare
 * case-insensitively (RFC 1035 section 2.3.3, RFC 4343). Before anything is
 * stored or looked up, a name is checked against the host name syntax of
 * RFC 952 and RFC 1123 section 2.1, relaxed to allow '_' as many real names
 * do: labels of 1 to 63 letters, digits, hyphens or underscores, at most 253
 * characters in all (RFC 1035 section 2.3.4). A name that fails is never
 * local, so it is resolved the normal way.
 *
 * Adding an address a name already has is a no-op; addresses past
 * NS_DNS_ADDRS_MAX for one family are dropped. A name with addresses of one
 * family only is still local: the other family gets NODATA, never a query
 * upstream (RFC 2308 section 2.2).
 *
 * Entries come from ns_dns_local_add() (host.internal, gateway.internal),
 * "NAME=IP" specs (--dns-name) and hosts files (hosts(5)): one address, then
 * the canonical name and any aliases, separated by blanks, '#' starting a
 * comment. A line with a bad address or no name is skipped; on a good line,
 * a bad name is skipped and the others kept. IPv6 addresses with a %scope are
 * skipped too: a scope means nothing to the guest.
 *
 * The table grows by doubling when it holds as many names as buckets, so
 * lookups stay short for hosts files of any size.
 */

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "dns/local.h"

#define LOCAL_BUCKETS_MIN   16
#define LOCAL_LABEL_MAX     63          /* RFC 1035 section 2.3.4 */
#define LOCAL_NAME_MAX      253         /* presentation form, no final dot */

/*
 * struct local_name - one name and its addresses
 * @next:   next name in the same bucket
 * @hash:   hash of @name
 * @a:      its addresses
 * @name:   canonical form
 */
struct local_name {
    struct local_name *next;
    uint32_t hash;
    struct ns_dns_addrs a;
    char name[];
};

/*
 * struct ns_dns_local - the table
 * @bucket: heads of the chains
 * @nbuckets: their number, a power of two
 * @count:  names stored
 */
struct ns_dns_local {
    struct local_name **bucket;
    size_t nbuckets;
    size_t count;
};

/* --- Names ---------------------------------------------------------------- */

/**
 * local_char_ok() - may @c appear in a label?
 * @c:      character
 *
 * Return: 1 for a letter, digit, '-' or '_'
 */
static int local_char_ok(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           c == '-' || c == '_';
}

/**
 * local_canon() - check a name and write its canonical form
 * @name:   name, a trailing dot allowed
 * @len:    its length (it need not be NUL-terminated)
 * @out:    LOCAL_NAME_MAX + 1 bytes for the lowercase name without the dot
 *
 * Return: the length of @out, -1 if @name is not a valid host name
 */
static int local_canon(const char *name, size_t len, char *out)
{
    size_t i, label = 0;

    if (len && name[len - 1] == '.')
        len--;
    if (!len || len > LOCAL_NAME_MAX)
        return -1;
    for (i = 0; i < len; i++) {
        if (name[i] == '.') {
            if (!label)
                return -1;
            label = 0;
        } else if (!local_char_ok(name[i]) || ++label > LOCAL_LABEL_MAX) {
            return -1;
        }
        out[i] = (name[i] >= 'A' && name[i] <= 'Z') ? (char)(name[i] - 'A' + 'a') : name[i];
    }
    out[len] = '\0';
    return label ? (int)len : -1;
}

/**
 * local_hash() - FNV-1a of a canonical name
 * @name:   name
 *
 * Return: its hash
 */
static uint32_t local_hash(const char *name)
{
    uint32_t h = 2166136261u;

    for (; *name; name++)
        h = (h ^ (uint8_t)*name) * 16777619u;
    return h;
}

/* --- The table ------------------------------------------------------------ */

/**
 * ns_dns_local_new() - an empty table
 *
 * Return: the table, NULL on allocation failure
 */
struct ns_dns_local *ns_dns_local_new(void)
{
    struct ns_dns_local *l = calloc(1, sizeof(*l));

    if (!l)
        return NULL;
    l->bucket = calloc(LOCAL_BUCKETS_MIN, sizeof(*l->bucket));
    if (!l->bucket) {
        free(l);
        return NULL;
    }
    l->nbuckets = LOCAL_BUCKETS_MIN;
    return l;
}

/**
 * ns_dns_local_free() - free a table and all its names
 * @l:      table, or NULL
 */
void ns_dns_local_free(struct ns_dns_local *l)
{
    struct local_name *e, *next;
    size_t i;

    if (!l)
        return;
    for (i = 0; i < l->nbuckets; i++) {
        for (e = l->bucket[i]; e; e = next) {
            next = e->next;
            free(e);
        }
    }
    free(l->bucket);
    free(l);
}

/**
 * local_find() - the entry of a canonical name
 * @l:      table
 * @name:   canonical name
 * @hash:   its hash
 *
 * Return: the entry, NULL if the name is not in the table
 */
static struct local_name *local_find(const struct ns_dns_local *l, const char *name,
                                     uint32_t hash)
{
    struct local_name *e;

    for (e = l->bucket[hash & (l->nbuckets - 1)]; e; e = e->next) {
        if (e->hash == hash && !strcmp(e->name, name))
            return e;
    }
    return NULL;
}

/**
 * local_grow() - double the buckets once the table is as full as it is wide
 * @l:      table
 *
 * A failed allocation leaves the table as it was: only slower.
 */
static void local_grow(struct ns_dns_local *l)
{
    struct local_name **b, *e, *next;
    size_t i, n = l->nbuckets * 2;

    if (l->count < l->nbuckets || n > SIZE_MAX / sizeof(*b))
        return;
    b = calloc(n, sizeof(*b));
    if (!b)
        return;
    for (i = 0; i < l->nbuckets; i++) {
        for (e = l->bucket[i]; e; e = next) {
            next = e->next;
            e->next = b[e->hash & (n - 1)];
            b[e->hash & (n - 1)] = e;
        }
    }
    free(l->bucket);
    l->bucket = b;
    l->nbuckets = n;
}

/**
 * local_entry() - the entry of a canonical name, created if new
 * @l:      table
 * @name:   canonical name
 * @len:    its length
 *
 * Return: the entry, NULL on allocation failure
 */
static struct local_name *local_entry(struct ns_dns_local *l, const char *name, size_t len)
{
    uint32_t hash = local_hash(name);
    struct local_name *e = local_find(l, name, hash);

    if (e)
        return e;
    e = calloc(1, sizeof(*e) + len + 1);
    if (!e)
        return NULL;
    memcpy(e->name, name, len + 1);
    e->hash = hash;
    e->next = l->bucket[hash & (l->nbuckets - 1)];
    l->bucket[hash & (l->nbuckets - 1)] = e;
    l->count++;
    local_grow(l);
    return e;
}

/**
 * local_add_addr() - add an address to an entry, unless it has it or is full
 * @a:      the entry's addresses
 * @family: AF_INET or AF_INET6
 * @addr:   struct in_addr or struct in6_addr
 */
static void local_add_addr(struct ns_dns_addrs *a, int family, const void *addr)
{
    unsigned i;

    if (family == AF_INET) {
        for (i = 0; i < a->n4; i++) {
            if (!memcmp(&a->v4[i], addr, sizeof(a->v4[i])))
                return;
        }
        if (a->n4 < NS_DNS_ADDRS_MAX)
            memcpy(&a->v4[a->n4++], addr, sizeof(a->v4[0]));
        return;
    }
    for (i = 0; i < a->n6; i++) {
        if (!memcmp(&a->v6[i], addr, sizeof(a->v6[i])))
            return;
    }
    if (a->n6 < NS_DNS_ADDRS_MAX)
        memcpy(&a->v6[a->n6++], addr, sizeof(a->v6[0]));
}

/**
 * local_add_n() - add a name given with its length, and an address
 * @l:      table
 * @name:   name, not necessarily NUL-terminated
 * @len:    its length
 * @family: AF_INET or AF_INET6
 * @addr:   struct in_addr or struct in6_addr
 *
 * Return: 0, -EINVAL for a bad name or family, -ENOMEM
 */
static int local_add_n(struct ns_dns_local *l, const char *name, size_t len, int family,
                       const void *addr)
{
    char canon[LOCAL_NAME_MAX + 1];
    struct local_name *e;
    int n;

    if (!l || !addr || (family != AF_INET && family != AF_INET6))
        return -EINVAL;
    n = local_canon(name, len, canon);
    if (n < 0)
        return -EINVAL;
    e = local_entry(l, canon, (size_t)n);
    if (!e)
        return -ENOMEM;
    local_add_addr(&e->a, family, addr);
    return 0;
}

/**
 * ns_dns_local_add() - one name and address
 * @l:      table
 * @name:   name, NUL-terminated
 * @family: AF_INET or AF_INET6
 * @addr:   struct in_addr or struct in6_addr
 *
 * Return: 0, -EINVAL for a bad name, -ENOMEM
 */
int ns_dns_local_add(struct ns_dns_local *l, const char *name, int family, const void *addr)
{
    if (!name)
        return -EINVAL;
    return local_add_n(l, name, strlen(name), family, addr);
}

/**
 * ns_dns_local_lookup() - is @name local?
 * @l:      table
 * @name:   name, any case, a trailing dot allowed
 * @out:    its addresses, when local
 *
 * Return: 1 if local (@out may lack the family asked for: NODATA), 0 if not
 */
int ns_dns_local_lookup(const struct ns_dns_local *l, const char *name, struct ns_dns_addrs *out)
{
    char canon[LOCAL_NAME_MAX + 1];
    const struct local_name *e;

    if (!l || !name || local_canon(name, strlen(name), canon) < 0)
        return 0;
    e = local_find(l, canon, local_hash(canon));
    if (!e)
        return 0;
    *out = e->a;
    return 1;
}

/* --- Text forms ------------------------------------------------------------ */

/**
 * local_parse_addr() - an IPv4 or IPv6 address in text form
 * @s:      text, NUL-terminated
 * @addr:   buffer for struct in_addr or struct in6_addr
 *
 * Return: AF_INET or AF_INET6, -1 if @s is neither
 */
static int local_parse_addr(const char *s, struct in6_addr *addr)
{
    if (inet_pton(AF_INET, s, addr) == 1)
        return AF_INET;
    if (inet_pton(AF_INET6, s, addr) == 1)
        return AF_INET6;
    return -1;
}

/**
 * ns_dns_local_add_spec() - "NAME=IP", as --dns-name gives it
 * @l:      table
 * @spec:   the spec; IP is IPv4 or IPv6, optionally in brackets
 *
 * Return: 0, -EINVAL for a malformed spec, -ENOMEM
 */
int ns_dns_local_add_spec(struct ns_dns_local *l, const char *spec)
{
    char text[INET6_ADDRSTRLEN + 2];
    const char *eq, *ip;
    struct in6_addr addr;
    size_t n;
    int family;

    if (!spec || !(eq = strchr(spec, '=')))
        return -EINVAL;
    ip = eq + 1;
    n = strlen(ip);
    if (n >= 2 && ip[0] == '[' && ip[n - 1] == ']') {
        ip++;
        n -= 2;
    }
    if (!n || n >= sizeof(text))
        return -EINVAL;
    memcpy(text, ip, n);
    text[n] = '\0';
    family = local_parse_addr(text, &addr);
    if (family < 0)
        return -EINVAL;
    return local_add_n(l, spec, (size_t)(eq - spec), family, &addr);
}

/**
 * local_hosts_line() - add the names of one hosts file line (hosts(5))
 * @l:      table
 * @line:   the line, NUL-terminated; modified
 * @added:  incremented for each name added
 *
 * Return: 0 for a good or empty line, -1 for a malformed one, -ENOMEM
 */
static int local_hosts_line(struct ns_dns_local *l, char *line, int *added)
{
    static const char blank[] = " \t\r\n\v\f";
    struct in6_addr addr;
    char *tok, *save;
    int family, names = 0, rc;

    line[strcspn(line, "#")] = '\0';
    tok = strtok_r(line, blank, &save);
    if (!tok)
        return 0;
    family = local_parse_addr(tok, &addr);
    if (family < 0)
        return -1;
    while ((tok = strtok_r(NULL, blank, &save))) {
        rc = ns_dns_local_add(l, tok, family, &addr);
        if (rc == -ENOMEM)
            return rc;
        if (!rc)
            names++;
    }
    *added += names;
    return names ? 0 : -1;
}

/**
 * ns_dns_local_load_hosts() - add every entry of a hosts file (hosts(5))
 * @l:      table
 * @path:   the file
 *
 * Return: the number of names added (one per name and line), -errno if the
 * file cannot be read, -ENOMEM
 */
int ns_dns_local_load_hosts(struct ns_dns_local *l, const char *path)
{
    char *line = NULL;
    size_t cap = 0;
    int added = 0, ret = 0;
    FILE *f;

    if (!l || !path)
        return -EINVAL;
    f = fopen(path, "re");
    if (!f)
        return -errno;
    while (getline(&line, &cap, f) >= 0) {
        if (local_hosts_line(l, line, &added) == -ENOMEM) {
            ret = -ENOMEM;
            break;
        }
    }
    if (!ret && ferror(f))
        ret = -EIO;
    free(line);
    fclose(f);
    return ret ? ret : added;
}
