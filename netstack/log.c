/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * log.c - log lines through the embedder's callback
 */
#include <stdarg.h>
#include <stdio.h>

#include "netstack/log.h"
#include "netstack/stack.h"

void ns_log(struct netstack *ns, enum netstack_log_level level, const char *fmt, ...)
{
    char buf[512];
    va_list ap;

    if (!ns->cfg.log || level > ns->cfg.log_level)
        return;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof(buf), fmt, ap);
    va_end(ap);
    ns->cfg.log(ns->cfg.opaque, level, buf);
}
