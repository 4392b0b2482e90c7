/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * namelist.c - domain name lists in RFC 1035 wire form (namelist.h)
 */
#include <string.h>

#include "ethernet/namelist.h"
#include "ethernet/writer.h"

/**
 * name_encode() - write a domain name in RFC 1035 section 3.1 form
 * @name: name, dotted, one trailing dot allowed, not NUL terminated
 * @len:  its length
 * @w:    writer
 *
 * Labels of 1 to 63 bytes, each behind its length byte, then a zero byte;
 * at most 255 bytes in all.
 * Return: 0, -1 for an empty label, a label or name too long.
 */
static int name_encode(const char *name, size_t len, struct ns_writer *w)
{
    size_t i = 0;

    if (len && name[len - 1] == '.')
        len--;
    if (!len || len + 2 > 255)
        return -1;
    while (i <= len) {
        size_t start = i;

        while (i < len && name[i] != '.')
            i++;
        if (i == start || i - start > 63)
            return -1;
        ns_writer_u8(w, (uint8_t)(i - start));
        ns_writer_bytes(w, name + start, i - start);
        i++;
    }
    ns_writer_u8(w, 0);
    return 0;
}

int ns_namelist_encode(const char *list, uint8_t *out, size_t room, size_t *len)
{
    const char *p = list ? list : "";
    struct ns_writer nw;
    uint8_t name[255];
    int full = 0;

    *len = 0;
    while (*(p += strspn(p, " \t"))) {
        size_t n = strcspn(p, " \t");

        ns_writer_init(&nw, name, sizeof(name));
        if (name_encode(p, n, &nw) || nw.overflow)
            return -1;
        if (full || nw.len > room - *len) {
            full = 1;
        } else {
            memcpy(out + *len, name, nw.len);
            *len += nw.len;
        }
        p += n;
    }
    return 0;
}
