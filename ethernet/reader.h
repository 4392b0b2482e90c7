/*
 * reader.h - the one bounds-checked reader every parser of untrusted bytes uses
 *
 * Frames from the guest, DHCP messages and (later) DNS messages and control
 * lines are read only through these accessors. Each either returns the bytes
 * asked for, fully inside what was received, or fails (NULL / -1) without
 * reading anything, and a failed read leaves the reader where it was. Nothing
 * casts a pointer into the buffer to a wire struct: multi-byte fields are
 * assembled byte by byte in network order, so alignment never matters.
 */
#ifndef NETSTACK_READER_H
#define NETSTACK_READER_H

#include <stddef.h>
#include <stdint.h>

struct ns_reader {
    const uint8_t *data;
    size_t len;     /* bytes that really arrived */
    size_t off;     /* next byte to read */
};

static inline void ns_reader_init(struct ns_reader *r, const void *data, size_t len)
{
    r->data = data;
    r->len = data ? len : 0;
    r->off = 0;
}

/* ns_reader_left() - bytes not yet read. */
static inline size_t ns_reader_left(const struct ns_reader *r)
{
    return r->len - r->off;
}

/* ns_reader_get() - take @n bytes. Return: pointer to them, NULL if fewer remain. */
static inline const uint8_t *ns_reader_get(struct ns_reader *r, size_t n)
{
    const uint8_t *p;

    if (n > ns_reader_left(r))
        return NULL;
    p = r->data + r->off;
    r->off += n;
    return p;
}

/* ns_reader_peek() - @n bytes at absolute offset @at, without moving. NULL if out of range. */
static inline const uint8_t *ns_reader_peek(const struct ns_reader *r, size_t at, size_t n)
{
    if (at > r->len || n > r->len - at)
        return NULL;
    return r->data + at;
}

/* ns_reader_skip() - move past @n bytes. Return: 0, -1 if fewer remain. */
static inline int ns_reader_skip(struct ns_reader *r, size_t n)
{
    return ns_reader_get(r, n) ? 0 : -1;
}

static inline int ns_reader_u8(struct ns_reader *r, uint8_t *v)
{
    const uint8_t *p = ns_reader_get(r, 1);

    if (!p)
        return -1;
    *v = p[0];
    return 0;
}

/* ns_reader_be16() - a 16-bit big-endian field, returned in host order. */
static inline int ns_reader_be16(struct ns_reader *r, uint16_t *v)
{
    const uint8_t *p = ns_reader_get(r, 2);

    if (!p)
        return -1;
    *v = (uint16_t)(p[0] << 8 | p[1]);
    return 0;
}

/* ns_reader_be32() - a 32-bit big-endian field, returned in host order. */
static inline int ns_reader_be32(struct ns_reader *r, uint32_t *v)
{
    const uint8_t *p = ns_reader_get(r, 4);

    if (!p)
        return -1;
    *v = (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
    return 0;
}

/* ns_reader_copy() - copy @n bytes out. Return: 0, -1 if fewer remain. */
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

/*
 * ns_reader_sub() - carve the next @n bytes into their own reader and move past
 * them. Used for a length-delimited region (an IP payload, a DHCP option) so
 * that parsing inside it can never run into what follows.
 * Return: 0, -1 if fewer than @n bytes remain (nothing moves).
 */
static inline int ns_reader_sub(struct ns_reader *r, size_t n, struct ns_reader *sub)
{
    const uint8_t *p = ns_reader_get(r, n);

    if (!p)
        return -1;
    ns_reader_init(sub, p, n);
    return 0;
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
