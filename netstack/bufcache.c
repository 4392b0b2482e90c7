/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * bufcache.c - reuse of frame- and segment-sized memory blocks
 *
 * Theory of Operation: on the data path every frame and every lwIP segment is
 * a block of up to 64 KiB that lives for microseconds: allocated when a frame
 * arrives or a segment is built, freed when it has been written. Given to
 * libc's malloc, such blocks are carved from the top of the heap and handed
 * back to the kernel (heap trimming) as soon as they are freed, so the next
 * one page-faults and clears 16 fresh pages. Here, a freed block of one of a
 * few size classes goes on that class's free list instead, up to a cap per
 * class, and the next allocation of that class takes it back (last in, first
 * out: still in the cache). Small blocks go to malloc directly, which already
 * caches them per thread.
 *
 * Every block has a small header naming its class, so ns_buf_free() needs no
 * size. The cache is process-wide, like lwIP (one stack per process), and is
 * used only from the stack's thread: lwIP's heap and pools and the transmit
 * queue. ns_buf_trim() releases what is cached (netstack_free()).
 */
#include <malloc.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "netstack/bufcache.h"

/* The classes: a full-MTU frame, a mid-size block, a 64 KiB segment or frame. */
static const size_t class_size[] = { 2048, 16384, NS_BUF_BIG };
static const unsigned class_cap[] = { 512, 64, 48 };
#define NCLASS (sizeof(class_size) / sizeof(class_size[0]))
#define CLASS_NONE 0xff         /* smaller or larger: plain malloc */

/*
 * struct buf_hdr - in front of every block; 16 bytes so that the block keeps
 * malloc's alignment
 * @cls:  size class, or CLASS_NONE
 * @next: next free block of the class, while cached
 */
struct buf_hdr {
    union {
        struct {
            uint8_t cls;
            struct buf_hdr *next;
        };
        max_align_t align_;
    };
};

static struct buf_hdr *free_list[NCLASS];
static unsigned free_count[NCLASS];

/**
 * class_of() - the smallest class for @len bytes, CLASS_NONE for none.
 */
static unsigned class_of(size_t len)
{
    unsigned c;

    if (len <= 512)
        return CLASS_NONE;      /* malloc's own caches are better at these */
    for (c = 0; c < NCLASS; c++)
        if (len <= class_size[c])
            return c;
    return CLASS_NONE;
}

void *ns_buf_alloc(size_t len)
{
    unsigned c = class_of(len);
    struct buf_hdr *h;

    if (c != CLASS_NONE && free_list[c]) {
        h = free_list[c];
        free_list[c] = h->next;
        free_count[c]--;
        return h + 1;
    }
    if (len > SIZE_MAX - sizeof(*h))
        return NULL;
    h = malloc(sizeof(*h) + (c == CLASS_NONE ? len : class_size[c]));
    if (!h)
        return NULL;
    h->cls = (uint8_t)c;
    return h + 1;
}

void *ns_buf_calloc(size_t n, size_t len)
{
    void *p;

    if (len && n > SIZE_MAX / len)
        return NULL;
    p = ns_buf_alloc(n * len);
    if (p)
        memset(p, 0, n * len);
    return p;
}

size_t ns_buf_size(const void *p)
{
    const struct buf_hdr *h = (const struct buf_hdr *)p - 1;

    if (h->cls == CLASS_NONE)
        return malloc_usable_size((void *)h);
    return sizeof(*h) + class_size[h->cls];
}

void ns_buf_free(void *p)
{
    struct buf_hdr *h;

    if (!p)
        return;
    h = (struct buf_hdr *)p - 1;
    if (h->cls == CLASS_NONE || free_count[h->cls] >= class_cap[h->cls]) {
        free(h);
        return;
    }
    h->next = free_list[h->cls];
    free_list[h->cls] = h;
    free_count[h->cls]++;
}

void ns_buf_trim(void)
{
    unsigned c;

    for (c = 0; c < NCLASS; c++) {
        while (free_list[c]) {
            struct buf_hdr *h = free_list[c];

            free_list[c] = h->next;
            free(h);
        }
        free_count[c] = 0;
    }
}
