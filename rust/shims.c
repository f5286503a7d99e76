// SPDX-License-Identifier: GPL-2.0
/* C shims (see shims.h). */

#include <linux/if_arp.h>
#include <linux/if_ether.h>
#include <linux/netdevice.h>
#include <linux/skbuff.h>
#include <linux/etherdevice.h>
#include <net/arp.h>
#include <net/genetlink.h>
#include <net/net_namespace.h>
#include <net/netlink.h>
#include <net/netns/generic.h>
#include <net/sock.h>
#include <net/udp.h>
#include <net/inet_hashtables.h>
#include <net/inet_timewait_sock.h>
#include <net/tcp_states.h>
#include <net/tcp.h>
#include <net/ipv6.h>
#include <net/transp_v6.h>
#include <linux/module.h>
#include <linux/percpu.h>
#include <linux/rcupdate.h>
#include <linux/delay.h>
#include <crypto/blake2s.h>
#include <linux/moduleparam.h>
#include <linux/timekeeping.h>
#include <linux/workqueue.h>

#include "netlink_gen.h"
#include "shims.h"

/* net_generic() takes the RCU read lock itself; the caller keeps @net alive. */
void *tpc_net_generic(const struct net *net, unsigned int id)
{
	return net_generic(net, id);
}

/* struct net is opaque to the kernel crate. */
struct proc_dir_entry *tpc_net_proc_dir(const struct net *net)
{
	return net->proc_net;
}

void tpc_rcu_read_lock(void)
{
	rcu_read_lock();
}

void tpc_rcu_read_unlock(void)
{
	rcu_read_unlock();
}

void *tpc_percpu_alloc(unsigned int n)
{
	return (void __force *)__alloc_percpu_gfp(n * sizeof(u64), sizeof(u64), GFP_KERNEL);
}

void tpc_percpu_free(void *cells)
{
	free_percpu((void __percpu __force *)cells);
}

void tpc_percpu_add(void *cells, unsigned int i, u64 n)
{
	u64 __percpu *c = (u64 __percpu __force *)cells;

	this_cpu_add(c[i], n);
}

u64 tpc_percpu_sum(void *cells, unsigned int i)
{
	u64 __percpu *c = (u64 __percpu __force *)cells;
	u64 sum = 0;
	int cpu;

	for_each_possible_cpu(cpu)
		sum += READ_ONCE(per_cpu_ptr(c, cpu)[i]);
	return sum;
}

void tpc_spin_lock_bh(spinlock_t *lock)
{
	spin_lock_bh(lock);
}

void tpc_spin_unlock_bh(spinlock_t *lock)
{
	spin_unlock_bh(lock);
}

/* @len bytes at @offset from skb->data, copied into @buffer if not linear; NULL if short. */
const void *tpc_skb_header_pointer(const struct sk_buff *skb, int offset, int len, void *buffer)
{
	return skb_header_pointer(skb, offset, len, buffer);
}

int tpc_skb_iif(const struct sk_buff *skb)
{
	return skb->dev ? skb->dev->ifindex : 0;
}

unsigned int tpc_skb_len(const struct sk_buff *skb)
{
	return skb->len;
}

/* The stack delivers a multicast frame's unicast datagram only as PACKET_HOST. */
void tpc_skb_set_pkt_type_host(struct sk_buff *skb)
{
	skb->pkt_type = PACKET_HOST;
}

struct net *tpc_dev_net(const struct net_device *dev)
{
	return dev_net(dev);
}

int tpc_dev_ifindex(const struct net_device *dev)
{
	return dev->ifindex;
}

void tpc_dev_put(struct net_device *dev)
{
	dev_put(dev);
}

/* Whether @dev is an Ethernet device: 6-byte hardware addresses, ARP. */
bool tpc_dev_is_ethernet(const struct net_device *dev)
{
	return dev->type == ARPHRD_ETHER && dev->addr_len == ETH_ALEN;
}

/*
 * An ARP reply saying that @ip (4 bytes) is at @mac, to @to_ip at @to_mac.
 * arp_create() also puts the sender hardware address in the Ethernet
 * source; @mac is a multicast cluster MAC, which is no valid source on the
 * wire (a bridge drops the frame), so the frame goes out from the device's
 * own address while the ARP payload names @mac, as CLUSTERIP did.
 */
void tpc_arp_reply(struct net_device *dev, const u8 *ip, const u8 *mac, const u8 *to_ip, const u8 *to_mac)
{
	__be32 sip, tip;
	struct sk_buff *skb;

	memcpy(&sip, ip, sizeof(sip));
	memcpy(&tip, to_ip, sizeof(tip));
	skb = arp_create(ARPOP_REPLY, ETH_P_ARP, tip, dev, sip, to_mac, mac, to_mac);
	if (!skb)
		return;
	ether_addr_copy(((struct ethhdr *)skb->data)->h_source, dev->dev_addr);
	arp_xmit(skb);
}

static struct packet_type tpc_arp_tap;

void tpc_arp_tap_register(tpc_packet_func func)
{
	tpc_arp_tap.type = htons(ETH_P_ARP);
	tpc_arp_tap.func = func;
	dev_add_pack(&tpc_arp_tap);
}

/* Returns once no call of the tap's function is running (synchronize_net). */
void tpc_arp_tap_unregister(void)
{
	dev_remove_pack(&tpc_arp_tap);
}

struct net *tpc_genl_info_net(const struct genl_info *info)
{
	return genl_info_net(info);
}

/*
 * Length of attribute @type of the request, its payload in @data; -1 if the
 * request has no such attribute. The policy has validated it.
 */
int tpc_genl_info_attr(const struct genl_info *info, unsigned int type, const void **data)
{
	const struct nlattr *attr = info->attrs ? info->attrs[type] : NULL;

	if (!attr)
		return -1;
	*data = nla_data(attr);
	return nla_len(attr);
}

/*
 * Extended ack for a refused request: @static_msg must live for ever (the
 * ack is sent after the handler returns); a @missing_type > 0 also marks
 * that attribute as missing.
 */
void tpc_genl_info_set_err(struct genl_info *info, const char *static_msg, int missing_type)
{
	if (!info->extack)
		return;
	info->extack->_msg = static_msg;
	if (missing_type > 0)
		NL_SET_ERR_ATTR_MISS(info->extack, NULL, missing_type);
}

struct sk_buff *tpc_genlmsg_new(void)
{
	return genlmsg_new(NLMSG_DEFAULT_SIZE, GFP_KERNEL);
}

void *tpc_genlmsg_put_reply(struct sk_buff *skb, struct genl_info *info, u8 cmd)
{
	return genlmsg_put_reply(skb, info, &tpcluster_nl_family, 0, cmd);
}

void tpc_genlmsg_end(struct sk_buff *skb, void *hdr)
{
	genlmsg_end(skb, hdr);
}

void tpc_genlmsg_cancel(struct sk_buff *skb, void *hdr)
{
	genlmsg_cancel(skb, hdr);
}

int tpc_genlmsg_reply(struct sk_buff *skb, struct genl_info *info)
{
	return genlmsg_reply(skb, info);
}

void tpc_nlmsg_free(struct sk_buff *skb)
{
	nlmsg_free(skb);
}

struct net *tpc_dump_net(const struct netlink_callback *cb)
{
	return sock_net(cb->skb->sk);
}

void *tpc_genlmsg_put_dump(struct sk_buff *skb, struct netlink_callback *cb, u8 cmd)
{
	return genlmsg_put(skb, NETLINK_CB(cb->skb).portid, cb->nlh->nlmsg_seq,
			   &tpcluster_nl_family, NLM_F_MULTI, cmd);
}

long tpc_dump_cursor(const struct netlink_callback *cb)
{
	return cb->args[0];
}

void tpc_dump_set_cursor(struct netlink_callback *cb, long cursor)
{
	cb->args[0] = cursor;
}

/* Nested attributes (NLA_F_NESTED set): start, end, or drop one. */
struct nlattr *tpc_nla_nest_start(struct sk_buff *skb, int type)
{
	return nla_nest_start(skb, type);
}

void tpc_nla_nest_end(struct sk_buff *skb, struct nlattr *start)
{
	nla_nest_end(skb, start);
}

void tpc_nla_nest_cancel(struct sk_buff *skb, struct nlattr *start)
{
	nla_nest_cancel(skb, start);
}

u64 tpc_now_ms(void)
{
	return ktime_get_ns() / NSEC_PER_MSEC;
}

u64 tpc_now_ns(void)
{
	return ktime_get_ns();
}

u64 tpc_real_ns(void)
{
	return ktime_get_real_ns();
}

void tpc_blake2s_128(u8 *out, const u8 *key, const u8 *data, size_t len)
{
	blake2s(out, data, key, 16, len, BLAKE2S_KEY_SIZE);
}

/*
 * Called from the PRE_ROUTING hook, under the RCU read lock, with the
 * segment's addresses as the client sent them (saddr is the client).
 * Request sockets (SYN_RECV) are in the established hash too, so a
 * handshake in progress counts as held. A TIME_WAIT socket does not: the
 * client may reuse the port for a new connection that another node owns,
 * and the old node's TIME_WAIT answer would break it. (A FIN_WAIT2
 * timewait socket still counts: its peer has not closed, so the port
 * cannot be reused yet.)
 */
bool tpc_tcp_socket_held(struct net *net, __be32 saddr, __be16 sport, __be32 daddr,
			 __be16 dport, int ifindex)
{
	struct sock *sk;
	bool held;

	sk = __inet_lookup_established(net, net->ipv4.tcp_death_row.hashinfo, saddr, sport,
				       daddr, ntohs(dport), ifindex, 0);
	if (!sk)
		return false;
	held = !(sk->sk_state == TCP_TIME_WAIT && inet_twsk(sk)->tw_substate == TCP_TIME_WAIT);
	sock_gen_put(sk);
	return held;
}

#ifdef CONFIG_SYN_COOKIES
/*
 * The listener the TCP segment whose IPv4 header starts at @hdr (@len
 * bytes: the IPv4 header and at least the first @tcp_len of TCP's) would
 * reach, if it sent SYN cookies lately (the stack's own test before it
 * checks one: tcp_synq_no_recent_overflow); NULL if not, or if the
 * namespace sends none. The headers are copied to @iph and the first
 * @tcp_len bytes of TCP's to @th (at most sizeof(*th)). Packet path (RCU
 * read lock held); no reference is taken.
 */
static struct sock *tpc_cookie_listener(struct net *net, const u8 *hdr, u32 len, u32 tcp_len,
					struct iphdr *iph, struct tcphdr *th)
{
	struct sock *sk;
	u32 ihl;

	if (len < sizeof(*iph) || tcp_len > sizeof(*th) ||
	    !READ_ONCE(net->ipv4.sysctl_tcp_syncookies))
		return NULL;
	memcpy(iph, hdr, sizeof(*iph));
	ihl = iph->ihl * 4;
	if (ihl < sizeof(*iph) || len < ihl + tcp_len)
		return NULL;
	memcpy(th, hdr + ihl, tcp_len);
	sk = __inet_lookup_listener(net, net->ipv4.tcp_death_row.hashinfo, NULL, 0, iph->saddr,
				    th->source, iph->daddr, ntohs(th->dest), 0, 0);
	if (!sk || tcp_synq_no_recent_overflow(sk))
		return NULL;
	return sk;
}
#endif

/*
 * Whether the TCP segment whose IPv4 header starts at @hdr (@len bytes: the
 * IPv4 header and at least the first 14 of TCP's) completes a handshake
 * this namespace's stack answered with a SYN cookie: an ACK (no SYN, no
 * RST) to a listener that sent cookies lately, acknowledging a cookie made
 * with this host's secret. The stack will make a connection of it; the
 * stacks of other nodes, whose secrets differ, would not. Packet path
 * (RCU read lock held).
 */
bool tpc_tcp_cookie_ack(struct net *net, const u8 *hdr, u32 len)
{
#ifdef CONFIG_SYN_COOKIES
	struct tcphdr th = {};
	struct iphdr iph;

	/* Ports, sequence, acknowledgment and flags: all the check reads. */
	if (!tpc_cookie_listener(net, hdr, len, 14, &iph, &th))
		return false;
	if (!th.ack || th.syn || th.rst)
		return false;
	return __cookie_v4_check(&iph, &th) != 0;
#else
	return false;
#endif
}

/*
 * Whether the listener that the TCP segment whose IPv4 header starts at
 * @hdr (@len bytes: the IPv4 header and at least the first 4 of TCP's)
 * would reach sent SYN cookies lately. Packet path (RCU read lock held).
 */
bool tpc_tcp_listener_sent_cookies(struct net *net, const u8 *hdr, u32 len)
{
#ifdef CONFIG_SYN_COOKIES
	struct tcphdr th = {};
	struct iphdr iph;

	return tpc_cookie_listener(net, hdr, len, 4, &iph, &th) != NULL;
#else
	return false;
#endif
}

/* What the channel socket's sk_user_data points at. */
struct tpc_udp_ctx {
	void *owner;
	tpc_udp_rcv_func func;
};

/*
 * encap_rcv of the channel socket: runs in softirq, under the RCU read lock,
 * after the UDP checksum has been verified. Always consumes the datagram.
 */
static int tpc_udp_encap_rcv(struct sock *sk, struct sk_buff *skb)
{
	struct tpc_udp_ctx *ctx = rcu_dereference_sk_user_data(sk);
	unsigned int len;

	if (!ctx || skb_linearize(skb))
		goto out;
	len = skb->len - skb_transport_offset(skb);
	if (skb_transport_offset(skb) < 0 || len < sizeof(struct udphdr))
		goto out;
	ctx->func(ctx->owner, (const u8 *)&ip_hdr(skb)->saddr, ntohs(udp_hdr(skb)->source),
		  skb_transport_header(skb) + sizeof(struct udphdr), len - sizeof(struct udphdr));
out:
	consume_skb(skb);
	return 0;
}

/* The channel socket's send buffer: room for several dead peers' queues. */
#define TPC_UDP_SNDBUF (4 << 20)

/* A UDP socket of @net bound to @addr:@port whose datagrams go to @func. */
int tpc_udp_open(struct net *net, const u8 *addr, u16 port, void *owner, tpc_udp_rcv_func func,
		 struct socket **out)
{
	struct sockaddr_in sin = { .sin_family = AF_INET, .sin_port = htons(port) };
	struct tpc_udp_ctx *ctx;
	struct socket *sock;
	int err;

	ctx = kzalloc(sizeof(*ctx), GFP_KERNEL);
	if (!ctx)
		return -ENOMEM;
	ctx->owner = owner;
	ctx->func = func;
	memcpy(&sin.sin_addr.s_addr, addr, 4);
	err = sock_create_kern(net, AF_INET, SOCK_DGRAM, IPPROTO_UDP, &sock);
	if (err)
		goto free_ctx;
	err = kernel_bind(sock, (struct sockaddr *)&sin, sizeof(sin));
	if (err)
		goto release;
	/*
	 * Room for the datagrams to live peers whatever waits on the
	 * neighbour of a dead one: an address that no longer resolves holds
	 * up to unres_qlen_bytes (by default the size of a default send
	 * buffer) of this socket's datagrams until its resolution fails,
	 * about 3 s, and with a default buffer nothing else could be sent
	 * meanwhile (as SO_SNDBUFFORCE).
	 */
	sock->sk->sk_userlocks |= SOCK_SNDBUF_LOCK;
	WRITE_ONCE(sock->sk->sk_sndbuf, TPC_UDP_SNDBUF);
	/* As setup_udp_tunnel_sock(), which needs CONFIG_NET_UDP_TUNNEL. */
	rcu_assign_sk_user_data(sock->sk, ctx);
	udp_sk(sock->sk)->encap_type = 1;
	udp_sk(sock->sk)->encap_rcv = tpc_udp_encap_rcv;
	udp_encap_enable();
	*out = sock;
	return 0;
release:
	sock_release(sock);
free_ctx:
	kfree(ctx);
	return err;
}

/* Process context: the send may allocate with GFP_KERNEL. */
int tpc_udp_send(struct socket *sock, const u8 *daddr, u16 dport, const u8 *data, size_t len)
{
	struct sockaddr_in sin = { .sin_family = AF_INET, .sin_port = htons(dport) };
	struct msghdr msg = { .msg_name = &sin, .msg_namelen = sizeof(sin),
			      .msg_flags = MSG_DONTWAIT };
	struct kvec iov = { .iov_base = (void *)data, .iov_len = len };
	int ret;

	memcpy(&sin.sin_addr.s_addr, daddr, 4);
	ret = kernel_sendmsg(sock, &msg, &iov, 1, len);
	return ret < 0 ? ret : 0;
}

/* Returns once no receive call can still see the owner. */
void tpc_udp_close(struct socket *sock)
{
	struct tpc_udp_ctx *ctx = rcu_dereference_protected(sock->sk->sk_user_data, 1);

	rcu_assign_sk_user_data(sock->sk, NULL);
	synchronize_net();
	kernel_sock_shutdown(sock, SHUT_RDWR);
	sock_release(sock);
	kfree(ctx);
}

/*
 * The urgent tickers' workqueue. Heartbeats are sent from a ticker: on a
 * busy machine a normal-priority worker can wait behind runnable tasks for
 * longer than the dead timeout, and the peers then count a working node
 * out. High-priority workers (nice -20) run first. The bulk work (progress
 * reports, handovers) stays on system_wq: at high priority it would run
 * at every kick ahead of the applications it serves. Not WQ_MEM_RECLAIM:
 * the work is no part of memory reclaim.
 */
static struct workqueue_struct *tpc_wq;

int tpc_tickers_init(void)
{
	tpc_wq = alloc_workqueue("tpcluster", WQ_HIGHPRI, 0);
	return tpc_wq ? 0 : -ENOMEM;
}

/* Every ticker was freed before. */
void tpc_tickers_exit(void)
{
	destroy_workqueue(tpc_wq);
}

struct tpc_ticker {
	struct delayed_work work;
	struct workqueue_struct *wq;
	u32 (*func)(void *arg);
	void *arg;
};

static void tpc_ticker_run(struct work_struct *work)
{
	struct tpc_ticker *t = container_of(to_delayed_work(work), struct tpc_ticker, work);

	queue_delayed_work(t->wq, &t->work, msecs_to_jiffies(t->func(t->arg)));
}

struct tpc_ticker *tpc_ticker_new(u32 (*func)(void *arg), void *arg, bool urgent)
{
	struct tpc_ticker *t = kzalloc(sizeof(*t), GFP_KERNEL);

	if (!t)
		return NULL;
	INIT_DELAYED_WORK(&t->work, tpc_ticker_run);
	t->wq = urgent ? tpc_wq : system_wq;
	t->func = func;
	t->arg = arg;
	return t;
}

/* Starts the ticker: its function runs @ms from now, then as it asks. */
void tpc_ticker_arm(struct tpc_ticker *t, unsigned int ms)
{
	queue_delayed_work(t->wq, &t->work, msecs_to_jiffies(ms));
}

/* Returns once the function is not running and will not run again. */
void tpc_ticker_free(struct tpc_ticker *t)
{
	cancel_delayed_work_sync(&t->work);
	kfree(t);
}

/* 0 until set: tpc_params_default() then puts the module's defaults. */
static unsigned int tpc_heartbeat_ms;
static unsigned int tpc_dead_ms;
static unsigned int tpc_replica_conns;
static unsigned int tpc_replica_half_open;
static unsigned int tpc_splice_conns;
/* 0 is a valid bound (no log): unset is UINT_MAX. */
static unsigned int tpc_replica_log_bytes = UINT_MAX;
static bool tpc_hook_timing;
/* 0 is a valid hold (none): unset is UINT_MAX. */
static unsigned int tpc_ready_hold_ms = UINT_MAX;

static int tpc_param_set_range(const char *val, const struct kernel_param *kp, unsigned int min,
			       unsigned int max)
{
	unsigned int ms;
	int err = kstrtouint(val, 0, &ms);

	if (err)
		return err;
	if (ms < min || ms > max)
		return -ERANGE;
	WRITE_ONCE(*(unsigned int *)kp->arg, ms);
	return 0;
}

/* Same ranges as the netlink attributes (see the YNL spec). */
static int tpc_param_set_heartbeat(const char *val, const struct kernel_param *kp)
{
	return tpc_param_set_range(val, kp, 10, 10000);
}

static int tpc_param_set_dead(const char *val, const struct kernel_param *kp)
{
	return tpc_param_set_range(val, kp, 30, 60000);
}

/* Connection tables: up to 2^20 slots (the index costs about 30 bytes a slot). */
static int tpc_param_set_conns(const char *val, const struct kernel_param *kp)
{
	return tpc_param_set_range(val, kp, 1, 1 << 20);
}

/* A client log: up to 64 MiB. */
static int tpc_param_set_log_bytes(const char *val, const struct kernel_param *kp)
{
	return tpc_param_set_range(val, kp, 0, 64 << 20);
}

static int tpc_param_set_hold(const char *val, const struct kernel_param *kp)
{
	return tpc_param_set_range(val, kp, 0, 60000);
}

static const struct kernel_param_ops tpc_heartbeat_ops = {
	.set = tpc_param_set_heartbeat,
	.get = param_get_uint,
};

static const struct kernel_param_ops tpc_dead_ops = {
	.set = tpc_param_set_dead,
	.get = param_get_uint,
};

static const struct kernel_param_ops tpc_hold_ops = {
	.set = tpc_param_set_hold,
	.get = param_get_uint,
};

static const struct kernel_param_ops tpc_log_bytes_ops = {
	.set = tpc_param_set_log_bytes,
	.get = param_get_uint,
};

static const struct kernel_param_ops tpc_conns_ops = {
	.set = tpc_param_set_conns,
	.get = param_get_uint,
};

/* Set by Kbuild: the release this module is. */
MODULE_VERSION(TPC_VERSION);

module_param_cb(heartbeat_ms, &tpc_heartbeat_ops, &tpc_heartbeat_ms, 0644);
MODULE_PARM_DESC(heartbeat_ms, "Heartbeat interval of nodes that set none, ms (10-10000)");
module_param_cb(dead_ms, &tpc_dead_ops, &tpc_dead_ms, 0644);
MODULE_PARM_DESC(dead_ms, "Silence after which a peer is dead, for nodes that set none, ms (30-60000)");
module_param_cb(ready_hold_ms, &tpc_hold_ops, &tpc_ready_hold_ms, 0644);
MODULE_PARM_DESC(ready_hold_ms,
		 "How long a service whose application stopped must listen again before it is ready, ms (0-60000)");
module_param_named(hook_timing, tpc_hook_timing, bool, 0644);
MODULE_PARM_DESC(hook_timing, "Time the packet hooks (counters hook_*_timed_*; costs two clock reads a packet)");
module_param_cb(replica_conns, &tpc_conns_ops, &tpc_replica_conns, 0444);
MODULE_PARM_DESC(replica_conns, "Most replicated connections a node tracks (1-1048576)");
module_param_cb(replica_half_open, &tpc_conns_ops, &tpc_replica_half_open, 0444);
MODULE_PARM_DESC(replica_half_open,
		 "Most of them whose client has not completed its handshake (1-1048576)");
module_param_cb(replica_log_bytes, &tpc_log_bytes_ops, &tpc_replica_log_bytes, 0644);
MODULE_PARM_DESC(replica_log_bytes,
		 "Most client bytes a replicated connection keeps to bring a replica in later (0-67108864)");
module_param_cb(splice_conns, &tpc_conns_ops, &tpc_splice_conns, 0444);
MODULE_PARM_DESC(splice_conns, "Most connections a node tracks in or after a handover (1-1048576)");

/* Module init, after the command line's parameters were parsed: fills in the unset ones. */
void tpc_params_default(unsigned int heartbeat_ms, unsigned int dead_ms, unsigned int replica_conns,
			unsigned int replica_half_open, unsigned int splice_conns,
			unsigned int ready_hold_ms, unsigned int replica_log_bytes)
{
	if (READ_ONCE(tpc_ready_hold_ms) == UINT_MAX)
		WRITE_ONCE(tpc_ready_hold_ms, ready_hold_ms);
	if (READ_ONCE(tpc_replica_log_bytes) == UINT_MAX)
		WRITE_ONCE(tpc_replica_log_bytes, replica_log_bytes);
	if (!READ_ONCE(tpc_heartbeat_ms))
		WRITE_ONCE(tpc_heartbeat_ms, heartbeat_ms);
	if (!READ_ONCE(tpc_dead_ms))
		WRITE_ONCE(tpc_dead_ms, dead_ms);
	if (!READ_ONCE(tpc_replica_conns))
		WRITE_ONCE(tpc_replica_conns, replica_conns);
	if (!READ_ONCE(tpc_replica_half_open))
		WRITE_ONCE(tpc_replica_half_open, replica_half_open);
	if (!READ_ONCE(tpc_splice_conns))
		WRITE_ONCE(tpc_splice_conns, splice_conns);
}

unsigned int tpc_param_heartbeat_ms(void)
{
	return READ_ONCE(tpc_heartbeat_ms);
}

unsigned int tpc_param_dead_ms(void)
{
	return READ_ONCE(tpc_dead_ms);
}

unsigned int tpc_param_replica_conns(void)
{
	return READ_ONCE(tpc_replica_conns);
}

unsigned int tpc_param_replica_half_open(void)
{
	return READ_ONCE(tpc_replica_half_open);
}

unsigned int tpc_param_replica_log_bytes(void)
{
	return READ_ONCE(tpc_replica_log_bytes);
}

unsigned int tpc_param_splice_conns(void)
{
	return READ_ONCE(tpc_splice_conns);
}

bool tpc_param_hook_timing(void)
{
	return READ_ONCE(tpc_hook_timing);
}

unsigned int tpc_param_ready_hold_ms(void)
{
	return READ_ONCE(tpc_ready_hold_ms);
}

void *tpc_genlmsg_put_notify(struct sk_buff *skb, u8 cmd)
{
	return genlmsg_put(skb, 0, 0, &tpcluster_nl_family, 0, cmd);
}

/* Consumes @skb; no listener is no error. */
void tpc_genlmsg_multicast_monitor(struct net *net, struct sk_buff *skb)
{
	genlmsg_multicast_netns(&tpcluster_nl_family, net, skb, 0, TPCLUSTER_NLGRP_MONITOR,
				GFP_KERNEL);
}

/* Starts the ticker's function now (from any context), then as it asks. */
void tpc_ticker_kick(struct tpc_ticker *t)
{
	mod_delayed_work(t->wq, &t->work, 0);
}

/*
 * The connection's socket in the established hash (full, TIME_WAIT or a
 * request), with a reference; ports in host order. Any context.
 */
static struct sock *tpc_established(struct net *net, const u8 *caddr, u16 cport,
				    const u8 *vaddr, u16 vport)
{
	__be32 c, v;
	struct sock *sk;

	memcpy(&c, caddr, 4);
	memcpy(&v, vaddr, 4);
	rcu_read_lock();
	sk = __inet_lookup_established(net, net->ipv4.tcp_death_row.hashinfo, c, htons(cport), v,
				       vport, 0, 0);
	rcu_read_unlock();
	return sk;
}

/* The full socket (not TIME_WAIT, not a request) of the connection, with a reference. */
static struct sock *tpc_full_sock(struct net *net, const u8 *caddr, u16 cport, const u8 *vaddr,
				  u16 vport)
{
	struct sock *sk = tpc_established(net, caddr, cport, vaddr, vport);

	if (sk && !sk_fullsock(sk)) {
		sock_gen_put(sk);
		sk = NULL;
	}
	return sk;
}

/* The listener that takes connections to @vaddr:@vport; the caller holds the RCU read lock. */
static struct sock *tpc_listener(struct net *net, const u8 *vaddr, u16 vport)
{
	__be32 v;

	memcpy(&v, vaddr, 4);
	return __inet_lookup_listener(net, net->ipv4.tcp_death_row.hashinfo, NULL, 0, 0, 0, v,
				      vport, 0, 0);
}

/*
 * The established socket of client @caddr:@cport to @vaddr:@vport (ports
 * in host order), or with @any_state the full socket in any state but
 * TIME_WAIT (closing ones too), with a reference; NULL if there is none.
 */
struct sock *tpc_tcp_lookup(struct net *net, const u8 *caddr, u16 cport, const u8 *vaddr,
			    u16 vport, bool any_state)
{
	struct sock *sk = tpc_full_sock(net, caddr, cport, vaddr, vport);

	if (sk && !any_state && sk->sk_state != TCP_ESTABLISHED) {
		sock_put(sk);
		sk = NULL;
	}
	return sk;
}

/*
 * The established socket whose SO_COOKIE is @cookie, with a reference;
 * NULL if there is none. Walks the whole established hash: O(its size).
 */
struct sock *tpc_tcp_lookup_cookie(struct net *net, u64 cookie)
{
	struct inet_hashinfo *h = net->ipv4.tcp_death_row.hashinfo;
	unsigned int i;

	for (i = 0; i <= h->ehash_mask; i++) {
		struct inet_ehash_bucket *head = &h->ehash[i];
		struct hlist_nulls_node *node;
		struct sock *sk;

		if (hlist_nulls_empty(&head->chain))
			continue;
		spin_lock_bh(inet_ehash_lockp(h, i));
		sk_nulls_for_each(sk, node, &head->chain) {
			if (sk->sk_state != TCP_ESTABLISHED || !net_eq(sock_net(sk), net) ||
			    atomic64_read(&sk->sk_cookie) != cookie)
				continue;
			if (!refcount_inc_not_zero(&sk->sk_refcnt))
				continue;
			spin_unlock_bh(inet_ehash_lockp(h, i));
			return sk;
		}
		spin_unlock_bh(inet_ehash_lockp(h, i));
	}
	return NULL;
}

/* The socket's cookie; 0 if none was ever asked for. */
u64 tpc_sock_cookie(const struct sock *sk)
{
	return atomic64_read(&sk->sk_cookie);
}

/* The connection of an accepted socket: its peer (the client) and local end. */
void tpc_sock_tuple(const struct sock *sk, u8 *caddr, u16 *cport, u8 *vaddr, u16 *vport)
{
	const struct inet_sock *inet = inet_sk(sk);

	memcpy(caddr, &inet->inet_daddr, 4);
	*cport = ntohs(inet->inet_dport);
	memcpy(vaddr, &inet->inet_rcv_saddr, 4);
	*vport = inet->inet_num;
}

void tpc_sock_put(struct sock *sk)
{
	sock_gen_put(sk);
}

void tpc_sock_hold(struct sock *sk)
{
	sock_hold(sk);
}

/*
 * Takes what a handover needs of @sk: -EBUSY while it has data in flight
 * or out of order (the caller waits), -ENOTCONN unless established. The
 * bytes received but not read are copied to @unread (at most @cap, else
 * -E2BIG). Process context.
 */
int tpc_tcp_snapshot(struct sock *sk, struct tpc_tcp_snapshot *s, u8 *unread, u32 cap)
{
	struct tcp_sock *tp = tcp_sk(sk);
	struct sk_buff *skb;
	int err = 0;
	u32 seq;

	lock_sock(sk);
	if (sk->sk_state != TCP_ESTABLISHED) {
		err = -ENOTCONN;
		goto out;
	}
	if (tp->snd_una != tp->snd_nxt || tp->packets_out || !tcp_write_queue_empty(sk) ||
	    !RB_EMPTY_ROOT(&tp->out_of_order_queue)) {
		err = -EBUSY;
		goto out;
	}
	s->rcv_nxt = tp->rcv_nxt;
	s->copied_seq = tp->copied_seq;
	s->snd_nxt = tp->snd_nxt;
	s->snd_wnd = tp->snd_wnd;
	s->ts_recent = tp->rx_opt.ts_recent;
	s->tsval_now = tcp_time_stamp_ts(tp) + tp->tsoffset;
	s->bytes_received = tp->bytes_received;
	s->mss = tp->rx_opt.mss_clamp;
	s->snd_wscale = tp->rx_opt.snd_wscale;
	s->rcv_wscale = tp->rx_opt.rcv_wscale;
	s->options = (tp->rx_opt.tstamp_ok ? 1 : 0) | (tp->rx_opt.sack_ok ? 2 : 0) |
		     (tp->rx_opt.wscale_ok ? 4 : 0);
	s->unread = 0;
	seq = tp->copied_seq;
	skb_queue_walk(&sk->sk_receive_queue, skb) {
		u32 off = seq - TCP_SKB_CB(skb)->seq;
		u32 n;

		if (TCP_SKB_CB(skb)->tcp_flags & TCPHDR_FIN) {
			err = -ENOTCONN;
			goto out;
		}
		if (off >= skb->len)
			continue;
		n = skb->len - off;
		if (n > cap - s->unread) {
			err = -E2BIG;
			goto out;
		}
		if (skb_copy_bits(skb, off, unread + s->unread, n)) {
			err = -EFAULT;
			goto out;
		}
		s->unread += n;
		seq += n;
	}
	if (seq != tp->rcv_nxt)
		err = -EBUSY;
out:
	release_sock(sk);
	return err;
}

/*
 * Closes @sk without a word to its peer: TCP_CLOSE at once (unhashed, no
 * FIN, no RST, timers stopped); its owner reads end-of-file.
 */
void tpc_tcp_release_silently(struct sock *sk)
{
	lock_sock(sk);
	if (sk->sk_state != TCP_CLOSE) {
		/*
		 * As tcp_abort(): the socket lock keeps the owner's close()
		 * out, the bottom-half lock the stack's own closes in softirq
		 * (inet_csk_listen_stop() of a child still queued).
		 */
		local_bh_disable();
		bh_lock_sock(sk);
		tcp_done(sk);
		bh_unlock_sock(sk);
		local_bh_enable();
	}
	release_sock(sk);
}

/* The TSval @sk would send now. */
u32 tpc_tcp_tsval(const struct sock *sk)
{
	const struct tcp_sock *tp = tcp_sk(sk);

	return tcp_time_stamp_ts(tp) + tp->tsoffset;
}

/* Whether @net has a TCP socket of the connection in any state. Any context. */
bool tpc_tcp_socket_exists(struct net *net, const u8 *caddr, u16 cport, const u8 *vaddr,
			   u16 vport)
{
	struct sock *sk = tpc_established(net, caddr, cport, vaddr, vport);

	if (!sk)
		return false;
	sock_gen_put(sk);
	return true;
}

/*
 * Ends the connection's TIME_WAIT socket, if it has one (not one in
 * FIN_WAIT2), as the stack itself does when a new SYN reuses the tuple
 * (TCP_TW_SYN in tcp_v4_rcv): whether there was one. Any context.
 */
bool tpc_tcp_end_time_wait(struct net *net, const u8 *caddr, u16 cport, const u8 *vaddr,
			   u16 vport)
{
	struct sock *sk = tpc_established(net, caddr, cport, vaddr, vport);

	if (!sk)
		return false;
	if (sk->sk_state == TCP_TIME_WAIT && inet_twsk(sk)->tw_substate == TCP_TIME_WAIT) {
		/* Drops the lookup's reference too. */
		inet_twsk_deschedule_put(inet_twsk(sk));
		return true;
	}
	sock_gen_put(sk);
	return false;
}

/* Whether a TCP socket of @net listens on @vaddr:@vport. Any context. */
bool tpc_tcp_listening(struct net *net, const u8 *vaddr, u16 vport)
{
	bool found;

	rcu_read_lock();
	found = tpc_listener(net, vaddr, vport) != NULL;
	rcu_read_unlock();
	return found;
}

/*
 * Delivers the IPv4 packet @pkt as if received on @ifindex (through
 * PRE_ROUTING). Any context.
 */
int tpc_inject_ipv4(struct net *net, int ifindex, const u8 *pkt, u32 len)
{
	struct net_device *dev;
	struct sk_buff *skb;

	skb = alloc_skb(LL_MAX_HEADER + len, GFP_ATOMIC);
	if (!skb)
		return -ENOMEM;
	skb_reserve(skb, LL_MAX_HEADER);
	skb_put_data(skb, pkt, len);
	skb_reset_mac_header(skb);
	skb_reset_network_header(skb);
	skb->protocol = htons(ETH_P_IP);
	skb->pkt_type = PACKET_HOST;
	skb->ip_summed = CHECKSUM_UNNECESSARY;
	rcu_read_lock();
	dev = dev_get_by_index_rcu(net, ifindex);
	if (!dev) {
		rcu_read_unlock();
		kfree_skb(skb);
		return -ENODEV;
	}
	skb->dev = dev;
	netif_rx(skb);
	rcu_read_unlock();
	return 0;
}

/* The first @len bytes from skb->data, linear and writable; NULL if not. */
u8 *tpc_skb_writable(struct sk_buff *skb, unsigned int len)
{
	if (len > skb->len || skb_ensure_writable(skb, len))
		return NULL;
	return skb->data;
}

bool tpc_skb_csum_partial(const struct sk_buff *skb)
{
	return skb->ip_summed == CHECKSUM_PARTIAL;
}

/*
 * synchronize_net() waits a normal grace period unless RTNL is held; a
 * handover waits here with the client's segments held back, so it asks
 * for an expedited one (the IPIs cost less than the client's stall).
 */
void tpc_synchronize_net(void)
{
	synchronize_rcu_expedited();
}

/* Sleeps @min_us to @max_us (hrtimer: not rounded up to jiffies like msleep). */
void tpc_usleep(unsigned long min_us, unsigned long max_us)
{
	usleep_range(min_us, max_us);
}

struct tpc_waitq {
	wait_queue_head_t wq;
	atomic_t gen;
};

struct tpc_waitq *tpc_waitq_new(void)
{
	struct tpc_waitq *q = kzalloc(sizeof(*q), GFP_KERNEL);

	if (q)
		init_waitqueue_head(&q->wq);
	return q;
}

void tpc_waitq_free(struct tpc_waitq *q)
{
	kfree(q);
}

u32 tpc_waitq_gen(struct tpc_waitq *q)
{
	return atomic_read(&q->gen);
}

/* Any context. */
void tpc_waitq_wake(struct tpc_waitq *q)
{
	atomic_inc(&q->gen);
	wake_up_all(&q->wq);
}

/* Process context: until the generation moves from @seen, or @ms pass. */
void tpc_waitq_wait(struct tpc_waitq *q, u32 seen, unsigned int ms)
{
	wait_event_timeout(q->wq, (u32)atomic_read(&q->gen) != seen, msecs_to_jiffies(ms));
}

/* Replicate mode: the socket-layer hook (see shims.h). */

/*
 * The gated copies of TCP's protos: IPv4 listeners get the first, IPv6 ones
 * (dual-stack, accepting IPv4) the second.
 */
static struct proto tpc_replica_prot;
#if IS_ENABLED(CONFIG_IPV6)
static struct proto tpc_replica_prot6;
#endif
static tpc_budget_func tpc_budget;

/* The proto a TCP socket of @sk's family has when nobody changed it. */
static struct proto *tpc_tcp_prot_of(const struct sock *sk)
{
#if IS_ENABLED(CONFIG_IPV6)
	if (sk->sk_family == AF_INET6)
		return &tcpv6_prot;
#endif
	return &tcp_prot;
}

/* The gated copy of it. */
static struct proto *tpc_gated_prot_of(const struct sock *sk)
{
#if IS_ENABLED(CONFIG_IPV6)
	if (sk->sk_family == AF_INET6)
		return &tpc_replica_prot6;
#endif
	return &tpc_replica_prot;
}

static int tpc_replica_recvmsg(struct sock *sk, struct msghdr *msg, size_t len, int flags,
			       int *addr_len)
{
	long budget;

	if (!(flags & MSG_ERRQUEUE) && len) {
		budget = tpc_budget(sk, len, flags & MSG_DONTWAIT, false);
		if (budget < 0)
			return budget;
		len = min_t(size_t, len, budget);
	}
	return tpc_tcp_prot_of(sk)->recvmsg(sk, msg, len, flags, addr_len);
}

static int tpc_replica_sendmsg(struct sock *sk, struct msghdr *msg, size_t size)
{
	bool nonblock = msg->msg_flags & MSG_DONTWAIT;
	size_t done = 0;

	while (done < size) {
		size_t left = size - done, count = iov_iter_count(&msg->msg_iter);
		long budget = tpc_budget(sk, left, nonblock, true);
		int ret;

		if (budget <= 0)
			return done ? done : (budget ? budget : -EAGAIN);
		if (budget > left)
			budget = left;
		iov_iter_truncate(&msg->msg_iter, budget);
		ret = tpc_tcp_prot_of(sk)->sendmsg(sk, msg, budget);
		iov_iter_reexpand(&msg->msg_iter, count - (ret > 0 ? ret : 0));
		if (ret <= 0)
			return done ? done : ret;
		done += ret;
		if (ret < budget)
			break;
	}
	return done;
}

static void tpc_replica_prot_init(struct proto *gated, const struct proto *orig)
{
	*gated = *orig;
	gated->recvmsg = tpc_replica_recvmsg;
	gated->sendmsg = tpc_replica_sendmsg;
	/* Every socket cloned from a gated listener pins the module. */
	gated->owner = THIS_MODULE;
}

void tpc_replica_init(tpc_budget_func budget)
{
	tpc_budget = budget;
	tpc_replica_prot_init(&tpc_replica_prot, &tcp_prot);
#if IS_ENABLED(CONFIG_IPV6)
	tpc_replica_prot_init(&tpc_replica_prot6, &tcpv6_prot);
#endif
}

/*
 * Every listener of @net that takes TCP connections for @vaddr:@vport (port
 * in host order): bound to that address or to the wildcard, IPv4 or IPv6
 * without IPV6_V6ONLY, each member of a reuseport group. They are the
 * sockets __inet_lookup_listener() chooses among, and sit in the same two
 * lhash2 buckets (an IPv6 wildcard or v4-mapped address hashes as its IPv4
 * counterpart does). Stores up to @max of them in @out, each with a
 * reference; returns how many match (more than @max: some left out). Any
 * context.
 */
int tpc_tcp_listeners(struct net *net, const u8 *vaddr, u16 vport, struct sock **out, int max)
{
	struct inet_hashinfo *h = net->ipv4.tcp_death_row.hashinfo;
	__be32 addrs[2] = { 0, 0 };
	int i, n = 0;

	memcpy(&addrs[0], vaddr, 4);
	rcu_read_lock();
	for (i = 0; i < 2; i++) {
		u32 hash = ipv4_portaddr_hash(net, addrs[i], vport);
		struct inet_listen_hashbucket *ilb2 = inet_lhash2_bucket(h, hash);
		struct hlist_nulls_node *node;
		struct sock *sk;

		sk_nulls_for_each_rcu(sk, node, &ilb2->nulls_head) {
			if (!net_eq(sock_net(sk), net) || sk->sk_num != vport ||
			    ipv6_only_sock(sk) || sk->sk_rcv_saddr != addrs[i] ||
			    READ_ONCE(sk->sk_state) != TCP_LISTEN)
				continue;
			if (n < max) {
				/* Listeners are freed after a grace period. */
				if (!refcount_inc_not_zero(&sk->sk_refcnt))
					continue;
				out[n] = sk;
			}
			n++;
		}
	}
	rcu_read_unlock();
	return n;
}

/*
 * Gives listener @sk the gated proto unless something else (a ULP, a BPF
 * sockmap) replaced TCP's; whether it has the gated one now. Any context: a
 * listener calls neither recvmsg nor sendmsg, and the connections it
 * accepts take whichever proto it has when they are cloned.
 */
bool tpc_replica_gate(struct sock *sk)
{
	struct proto *old = tpc_tcp_prot_of(sk);
	struct proto *gated = tpc_gated_prot_of(sk);

	return try_cmpxchg(&sk->sk_prot, &old, gated) || old == gated;
}

/* Whether listener @sk has the gated proto. */
bool tpc_replica_gated(const struct sock *sk)
{
	return READ_ONCE(sk->sk_prot) == tpc_gated_prot_of(sk);
}

/* Gives @sk TCP's proto back if it has the gated one. Any context. */
void tpc_replica_ungate(struct sock *sk)
{
	cmpxchg(&sk->sk_prot, tpc_gated_prot_of(sk), tpc_tcp_prot_of(sk));
}

/* Whether @sk is a listening socket still. */
bool tpc_sock_listening(const struct sock *sk)
{
	return READ_ONCE(sk->sk_state) == TCP_LISTEN;
}

/* The IPv4 address (0: the wildcard) and port a listener is bound to. */
void tpc_sock_bound(const struct sock *sk, u8 *addr, u16 *port)
{
	memcpy(addr, &sk->sk_rcv_saddr, 4);
	*port = sk->sk_num;
}

/* A reference on this module; false while it is being unloaded. */
bool tpc_module_get(void)
{
	return try_module_get(THIS_MODULE);
}

void tpc_module_put(void)
{
	module_put(THIS_MODULE);
}

struct net *tpc_sock_net(const struct sock *sk)
{
	return sock_net(sk);
}

/* @sk's sequence state, read without its lock (each field READ_ONCE). */
void tpc_tcp_progress_of(struct sock *sk, struct tpc_tcp_progress *p)
{
	const struct tcp_sock *tp = tcp_sk(sk);
	int state = READ_ONCE(sk->sk_state);

	p->rcv_nxt = READ_ONCE(tp->rcv_nxt);
	p->window_end = READ_ONCE(tp->rcv_wup) + READ_ONCE(tp->rcv_wnd);
	p->copied_seq = READ_ONCE(tp->copied_seq);
	p->write_seq = READ_ONCE(tp->write_seq);
	p->tsval_now = tcp_time_stamp_ts(tp) + READ_ONCE(tp->tsoffset);
	int err = READ_ONCE(sk->sk_err);
	u8 shutdown = READ_ONCE(sk->sk_shutdown);

	p->done = err || (shutdown & SHUTDOWN_MASK) ||
		  !((1 << state) & (TCPF_ESTABLISHED | TCPF_CLOSE_WAIT | TCPF_FIN_WAIT1 |
				    TCPF_FIN_WAIT2));
	/*
	 * The peer's FIN ends the reads, not the writes: the answer to a
	 * half-closed request is written after it (CLOSE_WAIT), and must wait
	 * for the backups like any write.
	 */
	p->send_done = err || (shutdown & SEND_SHUTDOWN) ||
		       !((1 << state) & (TCPF_ESTABLISHED | TCPF_CLOSE_WAIT));
}

/*
 * Copies up to @len bytes that @sk has received, from sequence number
 * @seq on, into @buf, from its receive queue (what the application has
 * not read yet); returns how many, fewer at a gap or the queue's end.
 * The socket lock keeps softirq from changing the queue meanwhile, as in
 * tcp_recvmsg(). Process context.
 */
u32 tpc_tcp_peek_received(struct sock *sk, u32 seq, u8 *buf, u32 len)
{
	struct sk_buff *skb;
	u32 done = 0;

	lock_sock(sk);
	skb_queue_walk(&sk->sk_receive_queue, skb) {
		u32 start = TCP_SKB_CB(skb)->seq + !!(TCP_SKB_CB(skb)->tcp_flags & TCPHDR_SYN);
		u32 at = seq + done, off, n;

		if (before(at, start))
			break;
		off = at - start;
		if (off >= skb->len)
			continue;
		n = min_t(u32, skb->len - off, len - done);
		if (skb_copy_bits(skb, off, buf + done, n))
			break;
		done += n;
		if (done == len)
			break;
	}
	release_sock(sk);
	return done;
}

/*
 * The sequence state of the connection's socket, if it has a full one or
 * one in TIME_WAIT. A TIME_WAIT socket has received everything up to and
 * with the peer's FIN (its replicas must learn that too, or the peer's FIN
 * is never acknowledged) and moves no more data.
 */
bool tpc_tcp_progress(struct net *net, const u8 *caddr, u16 cport, const u8 *vaddr, u16 vport,
		      struct tpc_tcp_progress *p)
{
	struct sock *sk = tpc_established(net, caddr, cport, vaddr, vport);

	if (!sk)
		return false;
	if (sk->sk_state == TCP_TIME_WAIT) {
		const struct tcp_timewait_sock *tw = tcp_twsk(sk);

		p->rcv_nxt = READ_ONCE(tw->tw_rcv_nxt);
		p->window_end = p->rcv_nxt;
		p->copied_seq = p->rcv_nxt;
		p->write_seq = READ_ONCE(tw->tw_snd_nxt);
		p->tsval_now = 0;
		p->done = true;
		p->send_done = true;
	} else if (sk_fullsock(sk)) {
		tpc_tcp_progress_of(sk, p);
	} else {
		sock_gen_put(sk);
		return false;
	}
	sock_gen_put(sk);
	return true;
}

/*
 * Makes the connection's socket send an ACK now and, with @retransmit,
 * its first unacknowledged segment too (its retransmission timer fires at
 * once, as on a timeout). Process context.
 */
bool tpc_tcp_ack_now(struct net *net, const u8 *caddr, u16 cport, const u8 *vaddr, u16 vport,
		     bool retransmit)
{
	struct sock *sk = tpc_full_sock(net, caddr, cport, vaddr, vport);
	struct inet_connection_sock *icsk;

	if (!sk)
		return false;
	icsk = inet_csk(sk);
	lock_sock(sk);
	if ((1 << sk->sk_state) & (TCPF_ESTABLISHED | TCPF_CLOSE_WAIT | TCPF_FIN_WAIT1 |
				   TCPF_FIN_WAIT2 | TCPF_CLOSING | TCPF_LAST_ACK)) {
		if (retransmit && tcp_sk(sk)->packets_out) {
			icsk->icsk_pending = ICSK_TIME_RETRANS;
			icsk->icsk_timeout = jiffies;
			sk_reset_timer(sk, &icsk->icsk_retransmit_timer, jiffies);
		}
		__tcp_send_ack(sk, tcp_sk(sk)->rcv_nxt, 0);
	}
	release_sock(sk);
	sock_put(sk);
	return true;
}

bool tpc_signal_pending(void)
{
	return signal_pending(current);
}

/* Like tpc_waitq_wait, but a signal ends it: -ERESTARTSYS. */
int tpc_waitq_wait_interruptible(struct tpc_waitq *q, u32 seen, unsigned int ms)
{
	long left = wait_event_interruptible_timeout(q->wq, (u32)atomic_read(&q->gen) != seen,
						     msecs_to_jiffies(ms));

	return left < 0 ? -ERESTARTSYS : 0;
}
