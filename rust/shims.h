/* SPDX-License-Identifier: GPL-2.0 */
/*
 * C shims for what Rust cannot reach directly: kernel inline functions, and
 * fields of structures the kernel crate binds as opaque. Each is a one-line
 * wrapper with the same contract as what it wraps.
 */
#ifndef TPC_SHIMS_H
#define TPC_SHIMS_H

struct net;
struct proc_dir_entry;

void *tpc_net_generic(const struct net *net, unsigned int id);
struct proc_dir_entry *tpc_net_proc_dir(const struct net *net);

#endif
