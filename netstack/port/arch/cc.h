/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * arch/cc.h - lwIP's platform header for a Linux (or BSD/macOS) userspace build.
 */
#ifndef NETSTACK_ARCH_CC_H
#define NETSTACK_ARCH_CC_H

#include <endian.h>
#include <stdio.h>
#include <stdlib.h>

#ifndef BYTE_ORDER
#define BYTE_ORDER __BYTE_ORDER
#endif

#define LWIP_RAND() ((u32_t)random())

/*
 * An lwIP assertion is a programming error in netstack or lwIP, never the
 * result of guest input (netstack validates every frame before lwIP sees it),
 * so it aborts loudly rather than continue with corrupt state.
 */
#define LWIP_PLATFORM_ASSERT(x) do { \
        fprintf(stderr, "lwIP assertion \"%s\" failed at %s:%d\n", x, __FILE__, __LINE__); \
        abort(); \
    } while (0)
#define LWIP_PLATFORM_DIAG(x) do { printf x; } while (0)

#define LWIP_ERRNO_STDINCLUDE 1

#endif /* NETSTACK_ARCH_CC_H */
