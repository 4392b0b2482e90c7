/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * bufcache.h - private: reused blocks for frames and lwIP segments (bufcache.c)
 *
 * Only the stack's thread may call these: the cache has no lock.
 */
#ifndef NETSTACK_BUFCACHE_H
#define NETSTACK_BUFCACHE_H

#include <stddef.h>

/* Largest cached block: a 64 KiB IP packet with link headers and slack. */
#define NS_BUF_BIG (65536 + 512)

/**
 * ns_buf_alloc() - a block of at least @len bytes, NULL when memory ran out.
 */
void *ns_buf_alloc(size_t len);

/**
 * ns_buf_calloc() - @n * @len zeroed bytes; NULL on overflow or no memory.
 */
void *ns_buf_calloc(size_t n, size_t len);

/**
 * ns_buf_size() - the bytes block @p from ns_buf_alloc() really holds of
 * memory (its class, or malloc's usable size, plus the header): what the
 * resource limits charge for it.
 */
size_t ns_buf_size(const void *p);

/**
 * ns_buf_free() - give back a block from ns_buf_alloc(); NULL is ignored.
 */
void ns_buf_free(void *p);

/**
 * ns_buf_trim() - release every cached block to libc.
 */
void ns_buf_trim(void);

#endif /* NETSTACK_BUFCACHE_H */
