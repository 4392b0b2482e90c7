/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * writer.h - bounds-checked writer for building frames and messages
 *
 * The mirror of reader.h: every put either fits in the buffer or sets the
 * sticky overflow flag and writes nothing, so a builder checks once at the end.
 */
#ifndef NETSTACK_WRITER_H
#define NETSTACK_WRITER_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

struct ns_writer {
    uint8_t *data;
    size_t cap;
    size_t len;
    int overflow;
};

static inline void ns_writer_init(struct ns_writer *w, void *buf, size_t cap)
{
    w->data = buf;
    w->cap = cap;
    w->len = 0;
    w->overflow = 0;
}

/**
 * ns_writer_reserve() - claim @n bytes. Return: where to write them, NULL on overflow.
 */
static inline uint8_t *ns_writer_reserve(struct ns_writer *w, size_t n)
{
    uint8_t *p;

    if (w->overflow || n > w->cap - w->len) {
        w->overflow = 1;
        return NULL;
    }
    p = w->data + w->len;
    w->len += n;
    return p;
}

static inline void ns_writer_bytes(struct ns_writer *w, const void *src, size_t n)
{
    uint8_t *p = ns_writer_reserve(w, n);

    if (p && n)
        memcpy(p, src, n);
}

static inline void ns_writer_zero(struct ns_writer *w, size_t n)
{
    uint8_t *p = ns_writer_reserve(w, n);

    if (p && n)
        memset(p, 0, n);
}

static inline void ns_writer_u8(struct ns_writer *w, uint8_t v)
{
    ns_writer_bytes(w, &v, 1);
}

static inline void ns_writer_be16(struct ns_writer *w, uint16_t v)
{
    uint8_t b[2] = { (uint8_t)(v >> 8), (uint8_t)v };

    ns_writer_bytes(w, b, 2);
}

static inline void ns_writer_be32(struct ns_writer *w, uint32_t v)
{
    uint8_t b[4] = { (uint8_t)(v >> 24), (uint8_t)(v >> 16), (uint8_t)(v >> 8), (uint8_t)v };

    ns_writer_bytes(w, b, 4);
}

static inline void ns_store_be16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}

static inline void ns_store_be32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

#endif /* NETSTACK_WRITER_H */
