/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * guest_mem.h - a VM's memory as the vhost-user front-end shares it
 *
 * QEMU hands over its guest RAM as regions, each a file descriptor to map
 * and three addresses: where the region sits in the guest's physical address
 * space (what descriptors hold), in QEMU's own address space (what ring
 * addresses are given in), and at what offset of the file. Every address the
 * guest or QEMU gives us is translated here, and a range that does not lie
 * wholly inside one mapped region translates to NULL: nothing outside the
 * mapped regions is ever read or written.
 */
#ifndef NETSTACK_GUEST_MEM_H
#define NETSTACK_GUEST_MEM_H

#include <stddef.h>
#include <stdint.h>

/* Regions a SET_MEM_TABLE may carry (VHOST_MEMORY_BASELINE_NREGIONS). */
#define NS_GMEM_REGIONS 8

/**
 * struct ns_gmem_region - one mapped region
 * @gpa:    guest physical address of its first byte
 * @size:   bytes
 * @uva:    the front-end's (QEMU's) address of its first byte
 * @host:   our address of its first byte
 * @map:    what mmap() returned (the file from offset 0), for munmap()
 * @map_len: its length
 */
struct ns_gmem_region {
    uint64_t gpa;
    uint64_t size;
    uint64_t uva;
    uint8_t *host;
    void *map;
    size_t map_len;
};

struct ns_gmem {
    unsigned n;
    struct ns_gmem_region r[NS_GMEM_REGIONS];
};

/**
 * ns_gmem_gpa() - our pointer to guest physical range [@gpa, @gpa + @len)
 * @m:      the memory table
 * @gpa:    first byte
 * @len:    bytes, at least 1
 *
 * Return: the pointer, or NULL when the range is not inside one region.
 */
void *ns_gmem_gpa(const struct ns_gmem *m, uint64_t gpa, uint64_t len);

/**
 * ns_gmem_uva() - our pointer to the front-end's range [@uva, @uva + @len)
 * @m:      the memory table
 * @uva:    first byte, in the front-end's address space
 * @len:    bytes, at least 1
 *
 * Return: the pointer, or NULL when the range is not inside one region.
 */
void *ns_gmem_uva(const struct ns_gmem *m, uint64_t uva, uint64_t len);

#endif /* NETSTACK_GUEST_MEM_H */
