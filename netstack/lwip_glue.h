/*
 * lwip_glue.h - private: lwIP wired to the stack
 */
#ifndef NETSTACK_LWIP_GLUE_H
#define NETSTACK_LWIP_GLUE_H

struct netstack;
struct ns_ipv4;

/* ns_lwip_start() - bring lwIP up with the guest link as its only netif. Return: 0 or -errno. */
int ns_lwip_start(struct netstack *ns);

/* ns_lwip_stop() - abort every TCP connection and remove the netif. */
void ns_lwip_stop(struct netstack *ns);

/*
 * ns_tcp_input() - hand a validated TCP datagram to lwIP, whatever its
 * destination address. Must not be called from inside an lwIP callback: lwIP
 * keeps the segment being processed in globals.
 */
void ns_tcp_input(struct netstack *ns, const struct ns_ipv4 *ip);

/* ns_lwip_resume() - after backpressure: output what lwIP was refused. */
void ns_lwip_resume(struct netstack *ns);

/* ns_lwip_reap_time_wait() - free lwIP's TIME_WAIT pcbs (end of every batch). */
void ns_lwip_reap_time_wait(void);

/* ns_lwip_timers() - run lwIP's due timers. */
void ns_lwip_timers(struct netstack *ns);

/* ns_lwip_next_timeout() - ms until lwIP's next timer, -1 for none. */
int ns_lwip_next_timeout(struct netstack *ns);

#endif /* NETSTACK_LWIP_GLUE_H */
