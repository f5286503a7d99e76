/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Kernel headers bound by tpcluster's own bindgen pass (Kbuild), for the
 * APIs the kernel crate does not bind. Only the items listed in
 * bindgen_allowlist are generated; everything else comes from
 * kernel::bindings.
 */
#include <linux/netdevice.h>
#include <linux/netfilter.h>
#include <net/arp.h>
#include <linux/netfilter_ipv4.h>
#include <linux/proc_fs.h>
#include <linux/random.h>
#include <linux/seq_file.h>
#include <linux/skbuff.h>
#include <net/genetlink.h>
#include <net/net_namespace.h>
#include <net/netlink.h>
#include <uapi/linux/tpcluster.h>

#include "netlink_gen.h"
#include "shims.h"
