/* SPDX-License-Identifier: GPL-2.0 */
/*
 * C shims for what Rust cannot reach directly: kernel inline functions and
 * macros, and fields of structures the kernel crate binds as opaque. Each
 * is a one-line wrapper with the same contract as what it wraps.
 */
#ifndef TPC_SHIMS_H
#define TPC_SHIMS_H

#include <linux/spinlock_types.h>
#include <linux/types.h>

struct genl_info;
struct net;
struct net_device;
struct packet_type;
struct netlink_callback;
struct netlink_ext_ack;
struct nlattr;
struct proc_dir_entry;
struct sk_buff;
struct sock;
struct socket;
struct tpc_ticker;

/* Namespaces. */
void *tpc_net_generic(const struct net *net, unsigned int id);
struct proc_dir_entry *tpc_net_proc_dir(const struct net *net);

/* RCU read-side sections (rcu.rs). */
void tpc_rcu_read_lock(void);
void tpc_rcu_read_unlock(void);

/* Per-CPU counters: @n u64 cells per CPU, zeroed (percpu.rs). */
void *tpc_percpu_alloc(unsigned int n);
void tpc_percpu_free(void *cells);
void tpc_percpu_add(void *cells, unsigned int i, u64 n);
u64 tpc_percpu_sum(void *cells, unsigned int i);

/* Locks. */
void tpc_spin_lock_bh(spinlock_t *lock);
void tpc_spin_unlock_bh(spinlock_t *lock);

/* Socket buffers and devices. */
const void *tpc_skb_header_pointer(const struct sk_buff *skb, int offset, int len, void *buffer);
unsigned int tpc_skb_len(const struct sk_buff *skb);
int tpc_skb_iif(const struct sk_buff *skb);
void tpc_skb_set_pkt_type_host(struct sk_buff *skb);
struct net *tpc_dev_net(const struct net_device *dev);
int tpc_dev_ifindex(const struct net_device *dev);
void tpc_dev_put(struct net_device *dev);
bool tpc_dev_is_ethernet(const struct net_device *dev);

/* ARP. */
void tpc_arp_reply(struct net_device *dev, const u8 *ip, const u8 *mac, const u8 *to_ip, const u8 *to_mac);

/* The ARP tap: one packet_type for ETH_P_ARP, calling @func. */
typedef int (*tpc_packet_func)(struct sk_buff *skb, struct net_device *dev,
			       struct packet_type *pt, struct net_device *orig_dev);
void tpc_arp_tap_register(tpc_packet_func func);
void tpc_arp_tap_unregister(void);

/* Generic netlink requests (tpcluster_nl_family). */
struct net *tpc_genl_info_net(const struct genl_info *info);
int tpc_genl_info_attr(const struct genl_info *info, unsigned int type, const void **data);
void tpc_genl_info_set_err(struct genl_info *info, const char *static_msg, int missing_type);
struct sk_buff *tpc_genlmsg_new(void);
void *tpc_genlmsg_put_reply(struct sk_buff *skb, struct genl_info *info, u8 cmd);
void tpc_genlmsg_end(struct sk_buff *skb, void *hdr);
void tpc_genlmsg_cancel(struct sk_buff *skb, void *hdr);
int tpc_genlmsg_reply(struct sk_buff *skb, struct genl_info *info);
void tpc_nlmsg_free(struct sk_buff *skb);

/* Generic netlink dumps. */
struct net *tpc_dump_net(const struct netlink_callback *cb);
void *tpc_genlmsg_put_dump(struct sk_buff *skb, struct netlink_callback *cb, u8 cmd);
long tpc_dump_cursor(const struct netlink_callback *cb);
void tpc_dump_set_cursor(struct netlink_callback *cb, long cursor);

/* Nested attributes. */
struct nlattr *tpc_nla_nest_start(struct sk_buff *skb, int type);
void tpc_nla_nest_end(struct sk_buff *skb, struct nlattr *start);
void tpc_nla_nest_cancel(struct sk_buff *skb, struct nlattr *start);

/* Clocks. */
u64 tpc_now_ms(void);
u64 tpc_now_ns(void);
u64 tpc_real_ns(void);

/* Keyed BLAKE2s-128 of @data under the 32-byte @key. */
void tpc_blake2s_128(u8 *out, const u8 *key, const u8 *data, size_t len);

/* TCP: whether @net holds a socket (any state but LISTEN) for the segment. */
bool tpc_tcp_socket_held(struct net *net, __be32 saddr, __be16 sport, __be32 daddr,
			 __be16 dport, int ifindex);

/* The cluster channel's UDP socket; @func runs in softirq for each datagram. */
typedef void (*tpc_udp_rcv_func)(void *owner, const u8 *saddr, u16 sport, const u8 *data,
				 size_t len);
int tpc_udp_open(struct net *net, const u8 *addr, u16 port, void *owner, tpc_udp_rcv_func func,
		 struct socket **out);
int tpc_udp_send(struct socket *sock, const u8 *daddr, u16 dport, const u8 *data, size_t len);
void tpc_udp_close(struct socket *sock);

/* The urgent tickers' high-priority workqueue: created before the first ticker, destroyed after the last. */
int tpc_tickers_init(void);
void tpc_tickers_exit(void);

/*
 * A periodic work item calling @func(@arg) in process context; it returns the next delay, ms.
 * @urgent: on the high-priority workqueue, else on system_wq.
 */
struct tpc_ticker *tpc_ticker_new(u32 (*func)(void *arg), void *arg, bool urgent);
void tpc_ticker_arm(struct tpc_ticker *t, unsigned int ms);
void tpc_ticker_free(struct tpc_ticker *t);

/* Module parameters: the default timers of nodes that set none. */
void tpc_params_default(unsigned int heartbeat_ms, unsigned int dead_ms, unsigned int replica_conns,
			unsigned int replica_half_open, unsigned int splice_conns,
			unsigned int ready_hold_ms, unsigned int replica_log_bytes);
unsigned int tpc_param_replica_log_bytes(void);
unsigned int tpc_param_heartbeat_ms(void);
unsigned int tpc_param_dead_ms(void);
unsigned int tpc_param_replica_conns(void);
unsigned int tpc_param_replica_half_open(void);
unsigned int tpc_param_splice_conns(void);
unsigned int tpc_param_ready_hold_ms(void);
bool tpc_param_hook_timing(void);

/* Generic netlink notifications to the monitor group of @net. */
void *tpc_genlmsg_put_notify(struct sk_buff *skb, u8 cmd);
void tpc_genlmsg_multicast_monitor(struct net *net, struct sk_buff *skb);

/* Handover (splice): the dispatcher's socket. */
struct tpc_tcp_snapshot {
	u32 rcv_nxt;
	u32 copied_seq;
	u32 snd_nxt;
	u32 snd_wnd;
	u32 ts_recent;
	u32 tsval_now;
	u64 bytes_received;
	u16 mss;
	u8 snd_wscale;
	u8 rcv_wscale;
	u8 options;	/* 1: timestamps, 2: SACK, 4: window scaling */
	u32 unread;	/* bytes of the receive queue copied out */
};
struct sock *tpc_tcp_lookup(struct net *net, const u8 *caddr, u16 cport, const u8 *vaddr,
			    u16 vport, bool any_state);
struct sock *tpc_tcp_lookup_cookie(struct net *net, u64 cookie);
u64 tpc_sock_cookie(const struct sock *sk);
void tpc_sock_tuple(const struct sock *sk, u8 *caddr, u16 *cport, u8 *vaddr, u16 *vport);
void tpc_sock_put(struct sock *sk);
void tpc_sock_hold(struct sock *sk);
int tpc_tcp_snapshot(struct sock *sk, struct tpc_tcp_snapshot *s, u8 *unread, u32 cap);
void tpc_tcp_release_silently(struct sock *sk);
u32 tpc_tcp_tsval(const struct sock *sk);
bool tpc_tcp_listening(struct net *net, const u8 *vaddr, u16 vport);
bool tpc_tcp_cookie_ack(struct net *net, const u8 *hdr, u32 len);
bool tpc_tcp_listener_sent_cookies(struct net *net, const u8 *hdr, u32 len);
bool tpc_tcp_end_time_wait(struct net *net, const u8 *caddr, u16 cport, const u8 *vaddr,
			   u16 vport);
bool tpc_tcp_socket_exists(struct net *net, const u8 *caddr, u16 cport, const u8 *vaddr,
			   u16 vport);

/* Handover (splice): the target's side and the packet path. */
int tpc_inject_ipv4(struct net *net, int ifindex, const u8 *pkt, u32 len);
u8 *tpc_skb_writable(struct sk_buff *skb, unsigned int len);
bool tpc_skb_csum_partial(const struct sk_buff *skb);
void tpc_synchronize_net(void);
void tpc_usleep(unsigned long min_us, unsigned long max_us);
void tpc_ticker_kick(struct tpc_ticker *t);

/* A wait queue with a generation counter (rust/waitq.rs). */
struct tpc_waitq;
struct tpc_waitq *tpc_waitq_new(void);
void tpc_waitq_free(struct tpc_waitq *q);
u32 tpc_waitq_gen(struct tpc_waitq *q);
void tpc_waitq_wake(struct tpc_waitq *q);
void tpc_waitq_wait(struct tpc_waitq *q, u32 seen, unsigned int ms);

/*
 * Replicate mode: the socket-layer hook. Listeners of replicate services
 * get a module-owned copy of tcp_prot (tcpv6_prot for dual-stack IPv6
 * listeners) whose recvmsg and sendmsg first ask @budget how many bytes
 * they may move now (it waits as it must; a negative errno ends the call);
 * accepted children inherit it, and pin the module while they live.
 */
typedef long (*tpc_budget_func)(struct sock *sk, size_t want, bool nonblock, bool send);
void tpc_replica_init(tpc_budget_func budget);
int tpc_tcp_listeners(struct net *net, const u8 *vaddr, u16 vport, struct sock **out, int max);
bool tpc_replica_gate(struct sock *sk);
bool tpc_replica_gated(const struct sock *sk);
void tpc_replica_ungate(struct sock *sk);
bool tpc_sock_listening(const struct sock *sk);
void tpc_sock_bound(const struct sock *sk, u8 *addr, u16 *port);
bool tpc_module_get(void);
void tpc_module_put(void);
struct net *tpc_sock_net(const struct sock *sk);
struct tpc_tcp_progress {
	u32 rcv_nxt;
	u32 window_end;	/* right edge of the receive window it offered */
	u32 copied_seq;
	u32 write_seq;
	u32 tsval_now;
	bool done;	/* error, shut down or closing: let the stack answer */
	bool send_done;	/* error, or this side closed: writes are the stack's */
};
void tpc_tcp_progress_of(struct sock *sk, struct tpc_tcp_progress *p);
u32 tpc_tcp_peek_received(struct sock *sk, u32 seq, u8 *buf, u32 len);
bool tpc_tcp_progress(struct net *net, const u8 *caddr, u16 cport, const u8 *vaddr, u16 vport,
		      struct tpc_tcp_progress *p);
bool tpc_tcp_ack_now(struct net *net, const u8 *caddr, u16 cport, const u8 *vaddr, u16 vport,
		     bool retransmit);
bool tpc_signal_pending(void);
int tpc_waitq_wait_interruptible(struct tpc_waitq *q, u32 seen, unsigned int ms);

#endif
