/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * reader.h - the one bounds-checked reader every parser of untrusted bytes uses
 *
 * Frames from the guest, DHCP messages and (later) DNS messages and control
 * lines are read only through these accessors. Each either returns the bytes
 * asked for, fully inside what was received, or fails (NULL / -1) without
 * reading anything, and a failed read leaves the reader where it was. Nothing
 * casts a pointer into the buffer to a wire struct: multi-byte fields are
 * assembled byte by byte in network order (little-endian for the virtio and
 * vhost-user fields), so alignment never matters.
 *
 * A failure is sticky, as the writer's overflow is: it sets @failed, and from
 * then on every read of that reader fails too and reads nothing, until
 * ns_reader_init(). So a parser may read a run of fields with ns_read_u8(),
 * ns_read_be16(), ns_read_be32(), ns_read_le32(), ns_read_le64(),
 * ns_reader_get(), ns_reader_skip() (for
 * fields it does not use), ns_reader_copy() and ns_reader_sub() without
 * checking what each returns, and check once with ns_reader_failed() instead
 * of chaining every read into one condition:
 *
 *     sport = ns_read_be16(&r);
 *     dport = ns_read_be16(&r);
 *     ns_reader_skip(&r, 4);
 *     if (ns_reader_failed(&r))
 *         return -1;
 *
 * When not to rely on the flag: the value variants return 0 for a field
 * that could not be read, a value a packet could also carry, and
 * ns_reader_get() returns NULL. Until the flag has been checked, such a
 * value may only be stored, or be the length of another read of the same
 * reader (which fails as well); it must not index an array, size a copy, a
 * loop or a read of another reader, decide what is done with the packet, or
 * (a pointer) be dereferenced. Where a field decides how the rest is read (a
 * header length, a type that selects a layout), check the flag right after
 * reading it; where running out in one part is counted differently from
 * running out in another, check once per part.
 *
 * ns_reader_peek() reads at an absolute offset and leaves the reader alone:
 * it neither looks at nor sets the flag.
 */
#ifndef NETSTACK_READER_H
#define NETSTACK_READER_H

#include <stddef.h>
#include <stdint.h>

struct ns_reader {
    const uint8_t *data;
    size_t len;     /* bytes that really arrived */
    size_t off;     /* next byte to read */
    int failed;     /* a read failed: every later one fails too */
};

/**
 * ns_reader_init() - start reading @len bytes at @data
 * @r:    the reader
 * @data: the bytes, NULL for none (then @len is ignored)
 * @len:  how many arrived
 *
 * Also clears a failure: a reader that is set up again starts afresh.
 */
static inline void ns_reader_init(struct ns_reader *r, const void *data, size_t len)
{
    r->data = data;
    r->len = data ? len : 0;
    r->off = 0;
    r->failed = 0;
}

/**
 * ns_reader_failed() - has a read of @r failed since ns_reader_init()?
 * @r: the reader
 *
 * Return: 1 if one has (and so every later read fails too), else 0
 */
static inline int ns_reader_failed(const struct ns_reader *r)
{
    return r->failed != 0;
}

/**
 * ns_reader_left() - bytes not yet read
 * @r: the reader
 *
 * Return: how many; a failed read does not change it
 */
static inline size_t ns_reader_left(const struct ns_reader *r)
{
    return r->len - r->off;
}

/**
 * ns_reader_get() - take @n bytes
 * @r: the reader
 * @n: how many
 *
 * Fails if fewer than @n remain, if @r has failed before, or if @r has no
 * buffer at all (even for @n == 0: there is no pointer to return).
 *
 * Return: pointer to them; NULL on failure, which sets the flag
 */
static inline const uint8_t *ns_reader_get(struct ns_reader *r, size_t n)
{
    const uint8_t *p;

    if (r->failed || !r->data || n > ns_reader_left(r)) {
        r->failed = 1;
        return NULL;
    }
    p = r->data + r->off;
    r->off += n;
    return p;
}

/**
 * ns_reader_peek() - @n bytes at absolute offset @at, without moving
 * @r:  the reader, whose flag is neither looked at nor set
 * @at: offset from the start of the buffer
 * @n:  how many
 *
 * Return: pointer to them, NULL if out of range
 */
static inline const uint8_t *ns_reader_peek(const struct ns_reader *r, size_t at, size_t n)
{
    if (at > r->len || n > r->len - at)
        return NULL;
    return r->data + at;
}

/**
 * ns_reader_skip() - move past @n bytes (a field the parser does not use)
 * @r: the reader
 * @n: how many
 *
 * Return: 0, -1 if fewer remain or @r has failed (which sets the flag)
 */
static inline int ns_reader_skip(struct ns_reader *r, size_t n)
{
    return ns_reader_get(r, n) ? 0 : -1;
}

/**
 * ns_reader_u8() - one byte
 * @r: the reader
 * @v: set to it; untouched on failure
 *
 * Return: 0, -1 on failure (which sets the flag)
 */
static inline int ns_reader_u8(struct ns_reader *r, uint8_t *v)
{
    const uint8_t *p = ns_reader_get(r, 1);

    if (!p)
        return -1;
    *v = p[0];
    return 0;
}

/**
 * ns_reader_be16() - a 16-bit big-endian field
 * @r: the reader
 * @v: set to it in host order; untouched on failure
 *
 * Return: 0, -1 on failure (which sets the flag)
 */
static inline int ns_reader_be16(struct ns_reader *r, uint16_t *v)
{
    const uint8_t *p = ns_reader_get(r, 2);

    if (!p)
        return -1;
    *v = (uint16_t)(p[0] << 8 | p[1]);
    return 0;
}

/**
 * ns_reader_be32() - a 32-bit big-endian field
 * @r: the reader
 * @v: set to it in host order; untouched on failure
 *
 * Return: 0, -1 on failure (which sets the flag)
 */
static inline int ns_reader_be32(struct ns_reader *r, uint32_t *v)
{
    const uint8_t *p = ns_reader_get(r, 4);

    if (!p)
        return -1;
    *v = (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
    return 0;
}

/**
 * ns_read_u8() - one byte, for a run of reads checked once
 * @r: the reader
 *
 * Return: the byte; 0 on failure, which sets the flag. See the top of this
 * file for what a value may be used for before ns_reader_failed() is checked.
 */
static inline uint8_t ns_read_u8(struct ns_reader *r)
{
    uint8_t v = 0;

    ns_reader_u8(r, &v);
    return v;
}

/**
 * ns_read_be16() - a 16-bit big-endian field in host order, for a run of reads
 * @r: the reader
 *
 * Return: the field; 0 on failure, which sets the flag
 */
static inline uint16_t ns_read_be16(struct ns_reader *r)
{
    uint16_t v = 0;

    ns_reader_be16(r, &v);
    return v;
}

/**
 * ns_read_be32() - a 32-bit big-endian field in host order, for a run of reads
 * @r: the reader
 *
 * Return: the field; 0 on failure, which sets the flag
 */
static inline uint32_t ns_read_be32(struct ns_reader *r)
{
    uint32_t v = 0;

    ns_reader_be32(r, &v);
    return v;
}

/**
 * ns_reader_copy() - copy @n bytes out
 * @r:   the reader
 * @dst: where to; untouched on failure
 * @n:   how many
 *
 * Return: 0, -1 if fewer remain or @r has failed (which sets the flag)
 */
static inline int ns_reader_copy(struct ns_reader *r, void *dst, size_t n)
{
    const uint8_t *p = ns_reader_get(r, n);
    size_t i;

    if (!p)
        return -1;
    for (i = 0; i < n; i++)
        ((uint8_t *)dst)[i] = p[i];
    return 0;
}

/**
 * ns_reader_sub() - carve the next @n bytes into their own reader
 * @r:   the reader, moved past them
 * @n:   how many
 * @sub: set to a reader over exactly them
 *
 * Used for a length-delimited region (an IP payload, a DHCP option) so that
 * parsing inside it can never run into what follows. The two readers fail
 * independently from then on: a failure inside @sub does not mark @r, and a
 * later failure of @r does not mark @sub. When the carving fails, @sub is
 * made an empty reader that has failed, so that reads from it in a run not
 * checked yet fail too instead of reading whatever it held before.
 *
 * Return: 0, -1 if fewer than @n bytes remain or @r has failed (nothing
 * moves, and the flag is set)
 */
static inline int ns_reader_sub(struct ns_reader *r, size_t n, struct ns_reader *sub)
{
    const uint8_t *p = ns_reader_get(r, n);

    if (!p) {
        ns_reader_init(sub, NULL, 0);
        sub->failed = 1;
        return -1;
    }
    ns_reader_init(sub, p, n);
    return 0;
}

/**
 * ns_read_le32() - a 32-bit little-endian field (virtio, vhost-user) in host
 * order, for a run of reads
 * @r: the reader
 *
 * Return: the field; 0 on failure, which sets the flag
 */
static inline uint32_t ns_read_le32(struct ns_reader *r)
{
    const uint8_t *p = ns_reader_get(r, 4);

    if (!p)
        return 0;
    return (uint32_t)p[3] << 24 | (uint32_t)p[2] << 16 | (uint32_t)p[1] << 8 | p[0];
}

/**
 * ns_read_le64() - a 64-bit little-endian field in host order, for a run of reads
 * @r: the reader
 *
 * Return: the field; 0 on failure, which sets the flag
 */
static inline uint64_t ns_read_le64(struct ns_reader *r)
{
    uint64_t lo = ns_read_le32(r), hi = ns_read_le32(r);

    return ns_reader_failed(r) ? 0 : hi << 32 | lo;
}

/* Helpers for fields already inside a checked region. */
static inline uint16_t ns_load_be16(const uint8_t *p)
{
    return (uint16_t)(p[0] << 8 | p[1]);
}

static inline uint32_t ns_load_be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

#endif /* NETSTACK_READER_H */
