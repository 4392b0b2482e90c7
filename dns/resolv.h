/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * resolv.h - private: the host's nameservers, from resolv.conf, followed live
 */
#ifndef NETSTACK_DNS_RESOLV_H
#define NETSTACK_DNS_RESOLV_H

#include <stdint.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>

#define NS_RESOLV_MAX 8

struct ns_resolv {
    unsigned n;
    struct sockaddr_storage server[NS_RESOLV_MAX];  /* IPv4 or IPv6, port 53 */
    socklen_t len[NS_RESOLV_MAX];
};

/**
 * ns_resolv_parse() - the "nameserver" lines of resolv.conf text (resolv.conf(5));
 * others are ignored, as are malformed addresses. IPv6 with %scope works.
 * Return: the number of servers found.
 */
unsigned ns_resolv_parse(const char *text, size_t len, struct ns_resolv *out);

/* A resolv.conf path and what was last read from it. */
struct ns_resolv_file {
    char path[4096];
    struct stat st;             /* identity and mtime at the last read */
    int have_st;
    uint64_t checked_ms;        /* when it was last stat()ed */
    struct ns_resolv servers;
};

/**
 * ns_resolv_file_init() - remember @path and read it now. Return: 0, or -errno (kept, retried later).
 */
int ns_resolv_file_init(struct ns_resolv_file *f, const char *path, uint64_t now_ms);

/**
 * ns_resolv_file_refresh() - re-read the file if it changed (inode, size or
 * mtime; also a file that appears or is replaced by rename), at most once per
 * second. Return: 1 if the servers changed, 0 if not.
 */
int ns_resolv_file_refresh(struct ns_resolv_file *f, uint64_t now_ms);

#endif /* NETSTACK_DNS_RESOLV_H */
