/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * guest_mem.c - translating the guest's and the front-end's addresses
 *
 * Overflow-safe: a range is inside a region when its start is and its length
 * fits in what is left of the region, computed without adding to an address
 * the guest chose.
 */
#include "tools/netstackd/guest_mem.h"

/**
 * inside() - offset of [@a, @a + @len) in the region starting at @base
 * @base:   the region's first address
 * @size:   its length
 * @a:      the range's first address
 * @len:    its length, at least 1
 * @off:    set to @a - @base when inside
 *
 * Return: 1 when the whole range is inside, else 0.
 */
static int inside(uint64_t base, uint64_t size, uint64_t a, uint64_t len, uint64_t *off)
{
    if (!len || a < base || a - base >= size || len > size - (a - base))
        return 0;
    *off = a - base;
    return 1;
}

/**
 * lookup() - the host address of a range given in one of two address spaces
 * @m:      the memory table
 * @a:      the range's first address
 * @len:    its length
 * @uva:    1 when @a is the front-end's address, 0 when the guest's
 *
 * Return: the host address, or NULL when no region holds the whole range.
 */
static void *lookup(const struct ns_gmem *m, uint64_t a, uint64_t len, int uva)
{
    uint64_t off;
    unsigned i;

    for (i = 0; i < m->n; i++)
        if (inside(uva ? m->r[i].uva : m->r[i].gpa, m->r[i].size, a, len, &off))
            return m->r[i].host + off;
    return NULL;
}

void *ns_gmem_gpa(const struct ns_gmem *m, uint64_t gpa, uint64_t len)
{
    return lookup(m, gpa, len, 0);
}

void *ns_gmem_uva(const struct ns_gmem *m, uint64_t uva, uint64_t len)
{
    return lookup(m, uva, len, 1);
}
