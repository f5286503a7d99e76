/* SPDX-License-Identifier: GPL-2.0 */
/*
 * C shims for kernel inline functions that Rust cannot call. Each is a
 * one-line wrapper with the same contract as the function it wraps.
 */
#ifndef TPC_SHIMS_H
#define TPC_SHIMS_H

struct net;

void *tpc_net_generic(const struct net *net, unsigned int id);

#endif
