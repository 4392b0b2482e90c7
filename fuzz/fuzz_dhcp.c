/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * fuzz_dhcp.c - libFuzzer harness for the DHCP server (netstack/dhcp.c)
 *
 * Each input is one client message (the UDP payload). It goes to two fresh
 * servers: one with the default /24 and every optional option, one with a
 * pool of two addresses, so that exhaustion, reuse and conflicts come quickly.
 * Each server sees the message at three points in time (fresh, within the
 * offer time, after every lease and offer ended), and also with a second
 * client's MAC in chaddr competing for the same addresses. Then once more on
 * servers where the message's client already holds a lease, so that RELEASE,
 * DECLINE, RENEWING and INIT-REBOOT messages find an address to act on.
 *
 * Every reply is checked: its fixed fields and option structure by a separate
 * walk here, its address against ns_dhcp_owner(), its destination against the
 * rules of RFC 2131 section 4.1, and then it is parsed back by the server's own
 * parser: turned into a BOOTREQUEST it must be a well-formed DHCP message of a
 * type a server ignores (NS_DHCP_NO_REPLY), never NS_DHCP_MALFORMED.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ethernet/reader.h"
#include "ethernet/writer.h"
#include "netstack/dhcp.h"

#define REPLY_MAX       548     /* what the server promises never to exceed */
#define OFF_CHADDR      28
#define OFF_OPTIONS     240
#define SERVER          0xc0a84101  /* 192.168.65.1 */

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const struct ns_dhcp_config full_cfg = {
    .subnet = 0xc0a84100,
    .netmask = 0xffffff00,
    .server = SERVER,
    .dns = SERVER,
    .first = 0xc0a84102,
    .last = 0xc0a841fe,
    .reserved = { 0xc0a841fe },
    .lease_seconds = 3600,
    .mtu = 65520,
    .domain_name = "internal",
    .search = "internal example.com",
};

static const struct ns_dhcp_config tiny_cfg = {
    .subnet = 0xc0a84100,
    .netmask = 0xffffff00,
    .server = SERVER,
    .dns = SERVER,
    .first = 0xc0a84102,
    .last = 0xc0a84104,
    .reserved = { 0xc0a84103 },
    .lease_seconds = 120,
    .mtu = 1500,
};

#define CHECK(cond)             \
    do {                        \
        if (!(cond))            \
            abort();            \
    } while (0)

/**
 * reply_options() - walk a reply's options, checking each fits
 * @reply:  the reply
 * @len:    its length
 * @type:   set to the message type (option 53)
 *
 * Return: the server identifier (option 54); aborts on a malformed reply
 */
static uint32_t reply_options(const uint8_t *reply, size_t len, uint8_t *type)
{
    struct ns_reader r, o;
    uint32_t server_id = 0;
    uint8_t code, olen;

    *type = 0;
    ns_reader_init(&r, reply, len);
    CHECK(!ns_reader_skip(&r, OFF_OPTIONS));
    for (;;) {
        CHECK(!ns_reader_u8(&r, &code));
        if (code == 255)
            break;
        CHECK(code != 0);
        CHECK(!ns_reader_u8(&r, &olen) && !ns_reader_sub(&r, olen, &o));
        if (code == 53)
            CHECK(olen == 1 && !ns_reader_u8(&o, type));
        if (code == 54)
            CHECK(olen == 4 && !ns_reader_be32(&o, &server_id));
    }
    while (!ns_reader_u8(&r, &code))    /* padding after the end option */
        CHECK(code == 0);
    return server_id;
}

/**
 * round_trip() - the server's parser must take its own reply as a message
 * @reply:  the reply
 * @len:    its length
 */
static void round_trip(const uint8_t *reply, size_t len)
{
    static struct ns_dhcp *scratch;
    uint8_t msg[REPLY_MAX], out[REPLY_MAX];
    struct ns_dhcp_dest dest;
    size_t out_len;

    if (!scratch)
        scratch = ns_dhcp_new(&full_cfg);   /* never changed by server types */
    CHECK(scratch);
    memcpy(msg, reply, len);
    msg[0] = 1;                             /* BOOTREQUEST */
    CHECK(ns_dhcp_handle(scratch, msg, len, 0, out, sizeof(out), &out_len, &dest) ==
          NS_DHCP_NO_REPLY);
}

/**
 * check_reply() - everything a reply must satisfy
 * @d:      server that wrote it
 * @cfg:    its configuration
 * @msg:    the request (at least a full BOOTP header, as it was accepted)
 * @reply:  the reply
 * @len:    its length
 * @dest:   where it goes
 */
static void check_reply(const struct ns_dhcp *d, const struct ns_dhcp_config *cfg,
                        const uint8_t *msg,
                        const uint8_t *reply, size_t len,
                        const struct ns_dhcp_dest *dest)
{
    static const uint8_t bcast[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
    uint32_t yiaddr = ns_load_be32(reply + 16);
    uint8_t type, owner[6];

    CHECK(len >= 300 && len <= REPLY_MAX);
    CHECK(reply[0] == 2 && reply[1] == 1 && reply[2] == 6);
    CHECK(!memcmp(reply + 4, msg + 4, 4));                          /* xid */
    CHECK(!memcmp(reply + OFF_CHADDR, msg + OFF_CHADDR, 16));
    CHECK(ns_load_be32(reply + 236) == 0x63825363);
    CHECK(reply_options(reply, len, &type) == SERVER);
    CHECK(type == 2 || type == 5 || type == 6);

    if (type == 6) {
        CHECK(dest->ip == 0xffffffff && !memcmp(dest->mac, bcast, 6));
        CHECK(yiaddr == 0);
    } else if (dest->ip != 0xffffffff) {
        CHECK(!memcmp(dest->mac, msg + OFF_CHADDR, 6));
    }
    if (type != 6 && yiaddr) {
        CHECK(ns_dhcp_owner(d, yiaddr, owner) == 1);
        CHECK(!memcmp(owner, msg + OFF_CHADDR, 6));
        CHECK(yiaddr >= cfg->first && yiaddr <= cfg->last);
        CHECK(yiaddr != cfg->server && yiaddr != cfg->reserved[0]);
    }
    round_trip(reply, len);
}

/**
 * feed() - hand one message to a server and check what comes back
 * @d:      server
 * @cfg:    its configuration
 * @msg:    message
 * @len:    its length
 * @now:    time
 */
static void feed(struct ns_dhcp *d, const struct ns_dhcp_config *cfg,
                 const uint8_t *msg, size_t len, uint64_t now)
{
    uint8_t reply[REPLY_MAX];
    struct ns_dhcp_dest dest;
    size_t reply_len = 0;

    switch (ns_dhcp_handle(d, msg, len, now, reply, sizeof(reply), &reply_len, &dest)) {
    case NS_DHCP_REPLY:
        CHECK(len >= OFF_OPTIONS);
        check_reply(d, cfg, msg, reply, reply_len, &dest);
        break;
    case NS_DHCP_NO_REPLY:
    case NS_DHCP_MALFORMED:
        break;
    default:
        abort();
    }
}

/**
 * run() - one message, other clients, and time passing, on a fresh server
 * @cfg:    server configuration
 * @data:   message
 * @others: the same message from two other MACs, NULL if too short for one
 * @size:   length of each
 *
 * Three clients exhaust the two addresses of tiny_cfg.
 */
static void run(const struct ns_dhcp_config *cfg, const uint8_t *data,
                const uint8_t *const *others, size_t size)
{
    struct ns_dhcp *d = ns_dhcp_new(cfg);
    uint64_t t;
    int i;

    CHECK(d);
    for (t = 1000; t <= 1030; t += 30) {
        feed(d, cfg, data, size, t);
        for (i = 0; others && i < 2; i++)
            feed(d, cfg, others[i], size, t + 1);
    }
    feed(d, cfg, data, size, 1000 + 2 * 3600);
    if (others)
        feed(d, cfg, others[1], size, 1000 + 2 * 3600);
    ns_dhcp_free(d);
}

/**
 * prime() - give a client an offer, or a lease, before its message arrives
 * @d:      server
 * @chaddr: the client's chaddr field, 16 bytes
 * @bind:   follow the DISCOVER with a REQUEST for the offered address
 *
 * Done at 990, so that an offer is still held when the message comes at 1000.
 */
static void prime(struct ns_dhcp *d, const uint8_t *chaddr, int bind)
{
    uint8_t msg[OFF_OPTIONS + 16] = { 1, 1, 6 }, reply[REPLY_MAX];
    struct ns_dhcp_dest dest;
    size_t len;

    memcpy(msg + OFF_CHADDR, chaddr, 16);
    ns_store_be32(msg + 236, 0x63825363);
    memcpy(msg + OFF_OPTIONS, "\x35\x01\x01\xff", 4);
    if (ns_dhcp_handle(d, msg, OFF_OPTIONS + 4, 990, reply, sizeof(reply), &len, &dest) !=
        NS_DHCP_REPLY || !bind)
        return;
    memcpy(msg + OFF_OPTIONS, "\x35\x01\x03\x32\x04", 5);
    memcpy(msg + OFF_OPTIONS + 5, reply + 16, 4);               /* yiaddr */
    memcpy(msg + OFF_OPTIONS + 9, "\x36\x04\xc0\xa8\x41\x01\xff", 7);
    CHECK(ns_dhcp_handle(d, msg, sizeof(msg), 990, reply, sizeof(reply), &len, &dest) ==
          NS_DHCP_REPLY);
    CHECK(reply[OFF_OPTIONS + 2] == 5);                         /* ACK */
}

/**
 * run_primed() - the message from a client the server already knows
 * @cfg:    server configuration
 * @data:   message, at least up to the end of chaddr
 * @size:   its length
 *
 * The low bit of 'hops', which the server ignores, chooses whether the client
 * holds an offer or a lease, so that the fuzzer can flip it.
 */
static void run_primed(const struct ns_dhcp_config *cfg, const uint8_t *data, size_t size)
{
    struct ns_dhcp *d = ns_dhcp_new(cfg);

    CHECK(d);
    prime(d, data + OFF_CHADDR, data[3] & 1);
    feed(d, cfg, data, size, 1000);
    feed(d, cfg, data, size, 1001);
    feed(d, cfg, data, size, 1100);         /* near the end of a tiny_cfg lease */
    feed(d, cfg, data, size, 1000 + 2 * 3600);
    ns_dhcp_free(d);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    uint8_t *copy[2] = { NULL, NULL };
    const uint8_t *others[2];
    int i;

    if (size > 4096)
        return 0;
    if (size < OFF_CHADDR + 16) {
        run(&full_cfg, data, NULL, size);
        run(&tiny_cfg, data, NULL, size);
        return 0;
    }

    /* separate exact-size copies, so that ASan catches an over-read */
    for (i = 0; i < 2; i++) {
        copy[i] = malloc(size);
        if (!copy[i])
            goto out;
        memcpy(copy[i], data, size);
        copy[i][OFF_CHADDR + 5] ^= i ? 0x33 : 0x5a;
        others[i] = copy[i];
    }
    run(&full_cfg, data, others, size);
    run(&tiny_cfg, data, others, size);
    run_primed(&full_cfg, data, size);
    run_primed(&tiny_cfg, data, size);
out:
    free(copy[0]);
    free(copy[1]);
    return 0;
}
