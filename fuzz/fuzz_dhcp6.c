/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * fuzz_dhcp6.c - libFuzzer harness for the stateless DHCPv6 server
 * (netstack/dhcp6.c)
 *
 * Each input is one client message (the UDP payload). A reply, when there
 * is one, is checked by a walk of its own: a Reply with the request's
 * transaction ID, options that end exactly where it does, our server ID, and
 * no bigger than DHCP6_MSG_MAX. The same bytes also go to the whole stack as
 * a datagram to ff02::1:2, so the UDP and IPv6 layers in front see them too.
 */
#define _GNU_SOURCE /* unshare() in fuzz_common.h */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ethernet/checksum.h"
#include "ethernet/reader.h"
#include "fuzz/fuzz_common.h"
#include "netstack/dhcp6.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(cond)             \
    do {                        \
        if (!(cond))            \
            abort();            \
    } while (0)

/**
 * check_reply() - the Reply @r (@n bytes) to @req is well formed.
 */
static void check_reply(const uint8_t *req, const uint8_t *r, int n)
{
    struct ns_reader rd;
    int server_id = 0;

    CHECK(n >= 4 && n <= DHCP6_MSG_MAX);
    CHECK(r[0] == 7 && !memcmp(r + 1, req + 1, 3));
    ns_reader_init(&rd, r + 4, (size_t)n - 4);
    while (ns_reader_left(&rd)) {
        uint16_t code = ns_read_be16(&rd), len = ns_read_be16(&rd);
        const uint8_t *d = ns_reader_get(&rd, len);

        CHECK(!ns_reader_failed(&rd) && d);
        if (code == 2) {
            CHECK(len == 10 && !memcmp(d + 4, "\x5a\x94\xef\xe4\x0c\xdd", 6));
            server_id = 1;
        }
    }
    CHECK(server_id);
}

/**
 * to_stack() - the message as a UDP datagram from the guest's link-local
 * address to ff02::1:2 port 547, with a correct checksum.
 */
static void to_stack(struct netstack *ns, const uint8_t *data, size_t size)
{
    static uint8_t f[14 + 40 + 8 + 2048];
    static const uint8_t head[14 + 40] = {
        0x33, 0x33, 0, 1, 0, 2, 0x52, 0x54, 0x00, 0x12, 0x34, 0x56, 0x86, 0xdd,
        0x60, 0, 0, 0, 0, 0, 17, 1,
        0xfe, 0x80, 0, 0, 0, 0, 0, 0, 0x50, 0x54, 0, 0xff, 0xfe, 0x12, 0x34, 0x56,
        0xff, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 2,
    };
    uint8_t *u = f + sizeof(head);
    uint16_t sum;

    if (size > sizeof(f) - sizeof(head) - 8)
        return;
    memcpy(f, head, sizeof(head));
    f[18] = (uint8_t)((8 + size) >> 8);
    f[19] = (uint8_t)(8 + size);
    u[0] = 546 >> 8;
    u[1] = 546 & 0xff;
    u[2] = 547 >> 8;
    u[3] = 547 & 0xff;
    u[4] = f[18];
    u[5] = f[19];
    u[6] = u[7] = 0;
    memcpy(u + 8, data, size);
    sum = ns_csum_fold(ns_csum_add(ns_csum_pseudo6(f + 22, f + 38, 17, 8 + size), u, 8 + size));
    if (!sum)
        sum = 0xffff;   /* zero is no checksum, refused over IPv6 */
    u[6] = (uint8_t)(sum >> 8);
    u[7] = (uint8_t)sum;
    netstack_input(ns, f, sizeof(head) + 8 + size);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct netstack *ns = fuzz_stack();
    uint8_t out[DHCP6_MSG_MAX];
    int n = ns_dhcp6_reply(ns, data, size, out, sizeof(out));

    if (n >= 0)
        check_reply(data, out, n);
    else
        CHECK(n == NS_DHCP6_MALFORMED || n == NS_DHCP6_UNHANDLED);
    to_stack(ns, data, size);
    return 0;
}
