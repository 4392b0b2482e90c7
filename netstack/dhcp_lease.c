/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * dhcp_lease.c - netstack's DHCP server: the lease table and time
 *
 * Theory of Operation
 * ===================
 *
 * Lease table
 * -----------
 * One struct lease per address from cfg.first to cfg.last, indexed by the
 * address minus cfg.first, so that finding an address is O(1). Addresses that
 * are never handed out (the server, cfg.reserved[], the network and broadcast
 * addresses) are LEASE_EXCLUDED. The table is capped at DHCP_LEASES_MAX
 * entries: a bigger range is cut to its first DHCP_LEASES_MAX addresses.
 *
 * A lease belongs to a client hardware address (chaddr); the client
 * identifier option is not used. An entry remembers the MAC that last held
 * it (@known) even after the lease is released or expires, and that MAC is
 * offered the same address again as long as nobody else took it: a guest that
 * reboots, or comes back after its lease ran out, keeps its address. New
 * clients get never-used addresses first and an address remembered for
 * another MAC only when no never-used one is left, the one released longest
 * ago first. A MAC is remembered on at most one entry (dhcp_lease_take()).
 *
 * Finding a client's entry is a linear scan (dhcp_lease_by_mac()); the table
 * is at most DHCP_LEASES_MAX entries and DHCP traffic is a few messages per
 * guest boot, so this is cheaper than keeping a second index right.
 *
 * Time
 * ----
 * Expiry is lazy: an entry stores when its state ends, and
 * dhcp_lease_state_at() reports an OFFERED, BOUND or DECLINED entry whose
 * time has passed as LEASE_FREE. Nothing runs on a timer. ns_dhcp_owner() has
 * no clock argument and uses the time of the last message handled.
 */

#include <string.h>

#include "netstack/dhcp.h"
#include "netstack/dhcp_priv.h"

/* --- Time and lease table ------------------------------------------------ */

/**
 * dhcp_after() - a point in time, saturating instead of wrapping
 * @now:    current time
 * @secs:   seconds from now
 *
 * Return: @now + @secs, or UINT64_MAX if that overflows
 */
uint64_t dhcp_after(uint64_t now, uint64_t secs)
{
    return now > UINT64_MAX - secs ? UINT64_MAX : now + secs;
}

/**
 * lease_index() - table index of an address
 * @d:      server
 * @ip:     address, host order
 *
 * Return: index into @d->leases, -1 if @ip is outside the pool or excluded
 */
static long lease_index(const struct ns_dhcp *d, uint32_t ip)
{
    uint32_t i = ip - d->cfg.first;

    if (ip < d->cfg.first || i >= d->nleases)
        return -1;
    if (d->leases[i].state == LEASE_EXCLUDED)
        return -1;
    return (long)i;
}

/**
 * dhcp_lease_at() - entry for an address that may be handed out
 * @d:      server
 * @ip:     address, host order (0 is never in the pool: it is excluded or
 *          below cfg.first, which lies in a subnet with a nonzero mask)
 *
 * Return: the entry, NULL if @ip is not in our pool
 */
struct lease *dhcp_lease_at(struct ns_dhcp *d, uint32_t ip)
{
    long i = lease_index(d, ip);

    return i < 0 ? NULL : &d->leases[i];
}

/**
 * dhcp_lease_ip() - address of a table entry
 * @d:      server
 * @l:      entry of @d->leases
 *
 * Return: the address, host order
 */
uint32_t dhcp_lease_ip(const struct ns_dhcp *d, const struct lease *l)
{
    return d->cfg.first + (uint32_t)(l - d->leases);
}

/**
 * dhcp_lease_state_at() - state of an entry at a given time, expiry applied
 * @l:      entry
 * @now:    current time
 *
 * Return: @l->state, or LEASE_FREE if a timed state has ended
 */
enum lease_state dhcp_lease_state_at(const struct lease *l, uint64_t now)
{
    switch (l->state) {
    case LEASE_OFFERED:
    case LEASE_BOUND:
    case LEASE_DECLINED:
        return now >= l->expires ? LEASE_FREE : l->state;
    default:
        return l->state;
    }
}

/**
 * dhcp_lease_by_mac() - the entry a client holds or held last
 * @d:      server
 * @mac:    client hardware address
 *
 * Return: the entry remembering @mac (at most one does), NULL if none
 */
struct lease *dhcp_lease_by_mac(struct ns_dhcp *d, const uint8_t *mac)
{
    uint32_t i;

    for (i = 0; i < d->nleases; i++) {
        struct lease *l = &d->leases[i];

        if (l->known && !memcmp(l->mac, mac, sizeof(l->mac)))
            return l;
    }
    return NULL;
}

/**
 * dhcp_lease_new() - pick an address for a client the table does not know
 * @d:      server
 * @now:    current time
 *
 * Return: a never-used free entry, else the free entry released longest ago,
 *         NULL if the pool is exhausted
 */
struct lease *dhcp_lease_new(struct ns_dhcp *d, uint64_t now)
{
    struct lease *best = NULL;
    uint32_t i;

    for (i = 0; i < d->nleases; i++) {
        struct lease *l = &d->leases[i];

        if (dhcp_lease_state_at(l, now) != LEASE_FREE)
            continue;
        if (!l->known)
            return l;
        if (!best || l->expires < best->expires)
            best = l;
    }
    return best;
}

/**
 * dhcp_lease_take() - give an entry to a client
 * @d:      server
 * @l:      entry; the caller checked it is free or already @mac's
 * @mac:    client hardware address
 * @state:  LEASE_OFFERED or LEASE_BOUND
 * @until:  when @state ends
 *
 * Any other entry remembering @mac forgets it (and is freed if still held),
 * so that a MAC is only ever on one entry.
 */
void dhcp_lease_take(struct ns_dhcp *d, struct lease *l, const uint8_t *mac,
                     enum lease_state state, uint64_t until)
{
    struct lease *old = dhcp_lease_by_mac(d, mac);

    if (old && old != l) {
        old->known = 0;
        if (old->state == LEASE_OFFERED || old->state == LEASE_BOUND)
            old->state = LEASE_FREE;
    }
    memcpy(l->mac, mac, sizeof(l->mac));
    l->known = 1;
    l->state = state;
    l->expires = until;
}

/**
 * dhcp_lease_free() - end an offer or binding, remembering the client
 * @l:      entry
 * @now:    current time
 */
void dhcp_lease_free(struct lease *l, uint64_t now)
{
    l->state = LEASE_FREE;
    l->expires = now;
}

/* --- Public interface ---------------------------------------------------- */

/**
 * ns_dhcp_owner() - who holds an address
 * @d:      server
 * @ip:     address, host order
 * @mac:    set to the holder's MAC if held (may be NULL)
 *
 * Expiry is judged at the time of the last message handled.
 *
 * Return: 1 if @ip is leased or offered and not expired, else 0
 */
int ns_dhcp_owner(const struct ns_dhcp *d, uint32_t ip, uint8_t mac[6])
{
    enum lease_state st;
    long i;

    if (!d || (i = lease_index(d, ip)) < 0)
        return 0;
    st = dhcp_lease_state_at(&d->leases[i], d->now);
    if (st != LEASE_OFFERED && st != LEASE_BOUND)
        return 0;
    if (mac)
        memcpy(mac, d->leases[i].mac, 6);
    return 1;
}
