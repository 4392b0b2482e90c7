/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * harness6.h - IPv6 for the unit tests, after harness.h: the addresses a
 * default stack uses, a stack on a fake clock, and frames from the guest
 * with their checksums computed here, not by the code under test
 */
#ifndef NETSTACK_TEST_HARNESS6_H
#define NETSTACK_TEST_HARNESS6_H

/* fd65:65::/64, its gateway ::1 and alias ::fe; the guest's SLAAC and link-local addresses */
static const uint8_t __attribute__((unused)) PREFIX[16] = { 0xfd, 0x65, 0, 0x65 };
static const uint8_t __attribute__((unused)) GW6[16] = { 0xfd, 0x65, 0, 0x65, [15] = 1 };
static const uint8_t __attribute__((unused)) ALIAS6[16] = { 0xfd, 0x65, 0, 0x65, [15] = 0xfe };
static const uint8_t __attribute__((unused)) GUEST6[16] = { 0xfd, 0x65, 0, 0x65, [8] = 0x50, 0x54, 0, 0xff, 0xfe, 0x12,
                                    0x34, 0x56 };
static const uint8_t __attribute__((unused)) GUEST_LL[16] = { 0xfe, 0x80, [8] = 0x50, 0x54, 0, 0xff, 0xfe, 0x12, 0x34,
                                      0x56 };
/* fe80:: + modified EUI-64 of the default gateway MAC 5a:94:ef:e4:0c:dd */
static const uint8_t __attribute__((unused)) GW_LL[16] = { 0xfe, 0x80, [8] = 0x58, 0x94, 0xef, 0xff, 0xfe, 0xe4, 0x0c,
                                   0xdd };
static const uint8_t __attribute__((unused)) UNSPEC[16];
static const uint8_t __attribute__((unused)) ALL_NODES[16] = { 0xff, 0x02, [15] = 1 };
static const uint8_t __attribute__((unused)) ALL_ROUTERS[16] = { 0xff, 0x02, [15] = 2 };
static const uint8_t __attribute__((unused)) MLD_ROUTERS[16] = { 0xff, 0x02, [15] = 0x16 };
static const uint8_t __attribute__((unused)) ALL_NODES_MAC[6] = { 0x33, 0x33, 0, 0, 0, 1 };

static uint64_t fake_ns __attribute__((unused));

static inline uint64_t fake_clock(void *opaque)
{
    (void)opaque;
    return fake_ns;
}

static inline int stack6_setup(void **state)
{
    struct netstack_config c;
    struct netstack *ns = NULL;

    capture_reset();
    fake_ns = 1000000000ull;
    netstack_config_init(&c);
    c.send_frames = capture_send;
    c.log = quiet_log;
    c.clock_ns = fake_clock;
    assert_int_equal(netstack_new(&c, &ns), 0);
    *state = ns;
    return 0;
}

static inline int stack6_teardown(void **state)
{
    stack_done(*state);
    return 0;
}

/**
 * csum6_proto() - the upper-layer checksum over the IPv6 pseudo-header,
 * computed here, not by the stack.
 */
static inline uint16_t csum6_proto(const uint8_t *src, const uint8_t *dst, uint8_t proto,
                                   const uint8_t *m, size_t len)
{
    uint32_t sum = 0;
    size_t i;

    for (i = 0; i < 16; i += 2)
        sum += (uint32_t)(src[i] << 8 | src[i + 1]) + (uint32_t)(dst[i] << 8 | dst[i + 1]);
    sum += (uint32_t)len + proto;
    for (i = 0; i + 1 < len; i += 2)
        sum += (uint32_t)(m[i] << 8 | m[i + 1]);
    if (len & 1)
        sum += (uint32_t)m[len - 1] << 8;
    while (sum >> 16)
        sum = (sum & 0xffff) + (sum >> 16);
    return (uint16_t)~sum;
}

static inline uint16_t csum6(const uint8_t *src, const uint8_t *dst, const uint8_t *m, size_t len)
{
    return csum6_proto(src, dst, 58, m, len);
}

/**
 * ip6_fixed() - Ethernet from the guest to @dst_mac and the IPv6 fixed
 * header; returns where the payload of @plen bytes goes.
 */
static inline uint8_t *ip6_fixed(uint8_t *f, const uint8_t *dst_mac, const uint8_t *src,
                                 const uint8_t *dst, uint8_t nh, size_t plen, uint8_t hop)
{
    uint8_t *h = f + eth(f, dst_mac, guest_mac, 0x86dd);

    memset(h, 0, 40);
    h[0] = 0x60;
    put16(h + 4, (uint16_t)plen);
    h[6] = nh;
    h[7] = hop;
    memcpy(h + 8, src, 16);
    memcpy(h + 24, dst, 16);
    return h + 40;
}

/**
 * ipv6_frame() - Ethernet + IPv6 header + @ext (extension headers, their
 * first Next Header @nh) + ICMPv6 message @m from the guest; the message's
 * checksum is filled in. Returns the frame length.
 */
static inline size_t ipv6_frame(uint8_t *f, const uint8_t *dst_mac, const uint8_t *src,
                                const uint8_t *dst, uint8_t hop, uint8_t nh, const uint8_t *ext,
                                size_t elen, uint8_t *m, size_t mlen)
{
    uint8_t *p = ip6_fixed(f, dst_mac, src, dst, elen ? nh : 58, elen + mlen, hop);

    if (elen)
        memcpy(p, ext, elen);
    if (mlen >= 4) {
        put16(m + 2, 0);
        put16(m + 2, csum6(src, dst, m, mlen));   /* ICMPv6's */
    }
    if (mlen)
        memcpy(p + elen, m, mlen);
    return 14 + 40 + elen + mlen;
}

static inline size_t icmp6_frame(uint8_t *f, const uint8_t *dst_mac, const uint8_t *src,
                                 const uint8_t *dst, uint8_t hop, uint8_t *m, size_t mlen)
{
    return ipv6_frame(f, dst_mac, src, dst, hop, 0, NULL, 0, m, mlen);
}

/**
 * udp6_frame() - a UDP datagram from @src port 40000 to @dst:@dport (to
 * Ethernet @dst_mac); @csum_ok 0 leaves the checksum zero. Returns the
 * frame length.
 */
static inline size_t udp6_frame(uint8_t *f, const uint8_t *dst_mac, const uint8_t *src,
                                const uint8_t *dst, uint16_t dport, const uint8_t *data,
                                size_t len, int csum_ok)
{
    uint8_t *u = ip6_fixed(f, dst_mac, src, dst, 17, 8 + len, 64);
    uint16_t sum;

    put16(u, 40000);
    put16(u + 2, dport);
    put16(u + 4, (uint16_t)(8 + len));
    put16(u + 6, 0);
    memcpy(u + 8, data, len);
    sum = csum6_proto(src, dst, 17, u, 8 + len);
    if (csum_ok)
        put16(u + 6, sum ? sum : 0xffff);
    return 14 + 40 + 8 + len;
}

#endif /* NETSTACK_TEST_HARNESS6_H */
