// SPDX-License-Identifier: GPL-2.0

//! Generic netlink: the `tpcluster` family and safe views of its requests,
//! replies and dumps.
//!
//! The family, its operations and attribute policies are C tables generated
//! from `Documentation/netlink/specs/tpcluster.yaml` (`rust/netlink_gen.c`,
//! by `tools/ynl-regen.sh`), as the kernel does for its own families. The
//! core validates every request against them before a handler runs, so
//! handlers see attributes of the right type and length, within range.

use super::bindings;
use core::{ffi::CStr, marker::PhantomData};
use kernel::{error::to_result, ffi::c_void, prelude::*};

use crate::types::Ipv4;

/// `EMSGSIZE`: a message is full (not in `kernel::error::code`).
fn emsgsize() -> Error {
    Error::from_errno(-(bindings::EMSGSIZE as i32))
}

/// The registration of the `tpcluster` family.
///
/// # Invariants
///
/// `tpcluster_nl_family` is registered from construction until drop.
pub(crate) struct Family(());

impl Family {
    /// Registers the family. Its handlers find per-namespace state, so the
    /// pernet registration must be active first and dropped after.
    pub(crate) fn register() -> Result<Self> {
        // SAFETY: the family is a static C object, registered once: `Family`
        // is only created here, by the module's `init`.
        to_result(unsafe {
            bindings::genl_register_family(core::ptr::addr_of_mut!(bindings::tpcluster_nl_family))
        })?;
        Ok(Self(()))
    }
}

impl Drop for Family {
    fn drop(&mut self) {
        // SAFETY: registered (type invariant). Returns once no request is
        // running: the genetlink core takes its callback lock for writing.
        unsafe {
            bindings::genl_unregister_family(core::ptr::addr_of_mut!(bindings::tpcluster_nl_family))
        };
    }
}

/// A `doit` request of the family.
///
/// # Invariants
///
/// `info` is the `genl_info` of the running `doit` call, valid for `'a`.
pub(crate) struct Request<'a> {
    info: *mut bindings::genl_info,
    _call: PhantomData<&'a mut bindings::genl_info>,
}

impl<'a> Request<'a> {
    /// Wraps the `genl_info` of a `doit` call.
    ///
    /// # Safety
    ///
    /// `info` must be the argument of a running `doit` of this family, and
    /// `'a` must not outlive the call.
    pub(crate) unsafe fn from_raw(info: *mut bindings::genl_info) -> Self {
        Self {
            info,
            _call: PhantomData,
        }
    }

    /// The namespace of the requesting socket.
    pub(crate) fn net(&self) -> *mut bindings::net {
        // SAFETY: `info` is valid (type invariant).
        unsafe { bindings::tpc_genl_info_net(self.info) }
    }

    /// The payload of attribute `ty`, if the request has it.
    pub(crate) fn attr(&self, ty: u32) -> Option<&'a [u8]> {
        let mut data: *const c_void = core::ptr::null();
        // SAFETY: `info` is valid (type invariant); `data` is a valid out pointer.
        let len = unsafe { bindings::tpc_genl_info_attr(self.info, ty, &mut data) };
        let len = usize::try_from(len).ok()?;
        // SAFETY: the attribute's payload is `len` bytes at `data`, inside
        // the request message, which lives until the call returns.
        Some(unsafe { core::slice::from_raw_parts(data.cast::<u8>(), len) })
    }

    /// Attribute `ty` as a native-endian `u32`.
    pub(crate) fn u32(&self, ty: u32) -> Option<u32> {
        Some(u32::from_ne_bytes(
            self.attr(ty)?.get(..4)?.try_into().ok()?,
        ))
    }

    /// Attribute `ty` as a native-endian `u64`.
    pub(crate) fn u64(&self, ty: u32) -> Option<u64> {
        Some(u64::from_ne_bytes(
            self.attr(ty)?.get(..8)?.try_into().ok()?,
        ))
    }

    /// Attribute `ty` as a native-endian `u16`.
    pub(crate) fn u16(&self, ty: u32) -> Option<u16> {
        Some(u16::from_ne_bytes(
            self.attr(ty)?.get(..2)?.try_into().ok()?,
        ))
    }

    /// Attribute `ty` as a `u8`.
    pub(crate) fn u8(&self, ty: u32) -> Option<u8> {
        self.attr(ty)?.first().copied()
    }

    /// Attribute `ty` as an IPv4 address (a big-endian `u32`).
    pub(crate) fn ipv4(&self, ty: u32) -> Option<Ipv4> {
        Some(Ipv4(self.attr(ty)?.get(..4)?.try_into().ok()?))
    }

    /// Attribute `ty` as exactly `N` bytes.
    pub(crate) fn bytes<const N: usize>(&self, ty: u32) -> Option<[u8; N]> {
        self.attr(ty)?.try_into().ok()
    }

    /// Refuses the request: `msg` goes to the extended ack, and names the
    /// missing attribute `missing` if given. Returns `err` for the handler
    /// to return.
    pub(crate) fn refuse(&self, err: Error, msg: &'static CStr, missing: Option<u32>) -> Error {
        let missing = missing.and_then(|t| i32::try_from(t).ok()).unwrap_or(0);
        // SAFETY: `info` is valid (type invariant); `msg` is static.
        unsafe { bindings::tpc_genl_info_set_err(self.info, msg.as_ptr().cast(), missing) };
        err
    }

    /// Sends a reply of command `cmd` whose attributes `fill` writes.
    pub(crate) fn reply(&self, cmd: u8, fill: impl FnOnce(&mut Message) -> Result) -> Result {
        // SAFETY: plain allocation.
        let skb = unsafe { bindings::tpc_genlmsg_new() };
        if skb.is_null() {
            return Err(ENOMEM);
        }
        // SAFETY: `skb` is a fresh message; `info` is valid (type invariant).
        let hdr = unsafe { bindings::tpc_genlmsg_put_reply(skb, self.info, cmd) };
        let mut msg = Message { skb };
        if hdr.is_null() || fill(&mut msg).is_err() {
            // SAFETY: `skb` is ours and not sent.
            unsafe { bindings::tpc_nlmsg_free(skb) };
            return Err(emsgsize());
        }
        // SAFETY: `hdr` is the header `genlmsg_put_reply` wrote into `skb`;
        // `genlmsg_reply` consumes `skb`.
        to_result(unsafe {
            bindings::tpc_genlmsg_end(skb, hdr);
            bindings::tpc_genlmsg_reply(skb, self.info)
        })
    }
}

/// Multicasts a notification of command `cmd`, whose attributes `fill`
/// writes, to the `monitor` group of `net`. Process context. Nobody
/// listening is no error.
pub(crate) fn notify_monitor(
    net: *mut bindings::net,
    cmd: u8,
    fill: impl FnOnce(&mut Message) -> Result,
) -> Result {
    // SAFETY: allocates a message (GFP_KERNEL; process context).
    let skb = unsafe { bindings::tpc_genlmsg_new() };
    if skb.is_null() {
        return Err(ENOMEM);
    }
    // SAFETY: `skb` is a new message with room for the header.
    let hdr = unsafe { bindings::tpc_genlmsg_put_notify(skb, cmd) };
    let mut msg = Message { skb };
    if hdr.is_null() || fill(&mut msg).is_err() {
        // SAFETY: `skb` is ours and not sent.
        unsafe { bindings::tpc_nlmsg_free(skb) };
        return Err(emsgsize());
    }
    // SAFETY: `hdr` is in `skb`, which the multicast consumes; `net` is
    // live (the caller's node lives in it).
    unsafe {
        bindings::tpc_genlmsg_end(skb, hdr);
        bindings::tpc_genlmsg_multicast_monitor(net, skb);
    }
    Ok(())
}

/// A message being filled with attributes.
///
/// # Invariants
///
/// `skb` is a netlink message under construction, owned by the caller.
pub(crate) struct Message {
    skb: *mut bindings::sk_buff,
}

impl Message {
    /// Appends attribute `ty` with payload `data`; `EMSGSIZE` when full.
    pub(crate) fn put(&mut self, ty: u32, data: &[u8]) -> Result {
        let ty = i32::try_from(ty).map_err(|_| EINVAL)?;
        let len = i32::try_from(data.len()).map_err(|_| emsgsize())?;
        // SAFETY: `skb` is valid (type invariant); `data` is valid for `len` bytes.
        to_result(unsafe { bindings::nla_put(self.skb, ty, len, data.as_ptr().cast()) })
    }

    /// Appends a native-endian `u32`.
    pub(crate) fn put_u32(&mut self, ty: u32, v: u32) -> Result {
        self.put(ty, &v.to_ne_bytes())
    }

    /// Appends a native-endian `u16`.
    pub(crate) fn put_u16(&mut self, ty: u32, v: u16) -> Result {
        self.put(ty, &v.to_ne_bytes())
    }

    /// Appends a `u8`.
    pub(crate) fn put_u8(&mut self, ty: u32, v: u8) -> Result {
        self.put(ty, &[v])
    }

    /// Appends a native-endian `u64` (unaligned, as readers accept).
    pub(crate) fn put_u64(&mut self, ty: u32, v: u64) -> Result {
        self.put(ty, &v.to_ne_bytes())
    }

    /// Appends a string attribute (NUL-terminated), at most 63 bytes.
    pub(crate) fn put_str(&mut self, ty: u32, v: &str) -> Result {
        let mut buf = [0u8; 64];
        let bytes = v.as_bytes();
        let dst = buf.get_mut(..bytes.len()).ok_or(EINVAL)?;
        dst.copy_from_slice(bytes);
        self.put(ty, &buf[..=bytes.len()])
    }

    /// Appends an IPv4 address (big-endian `u32`).
    pub(crate) fn put_ipv4(&mut self, ty: u32, v: Ipv4) -> Result {
        self.put(ty, &v.0)
    }

    /// Appends nested attribute `ty` (with `NLA_F_NESTED`) holding the
    /// attributes `fill` writes; `EMSGSIZE` when full, and then the
    /// message is as it was before.
    pub(crate) fn nest(&mut self, ty: u32, fill: impl FnOnce(&mut Message) -> Result) -> Result {
        let ty = i32::try_from(ty).map_err(|_| EINVAL)?;
        // SAFETY: `skb` is valid (type invariant).
        let start = unsafe { bindings::tpc_nla_nest_start(self.skb, ty) };
        if start.is_null() {
            return Err(emsgsize());
        }
        match fill(self) {
            // SAFETY: `start` is the header `nla_nest_start` put into
            // `skb`, and every attribute after it is inside the nest.
            Ok(()) => unsafe { bindings::tpc_nla_nest_end(self.skb, start) },
            Err(e) => {
                // SAFETY: as above; trims `skb` back to before the nest.
                unsafe { bindings::tpc_nla_nest_cancel(self.skb, start) };
                return Err(e);
            }
        }
        Ok(())
    }
}

/// A `dumpit` call of the family: fills one reply buffer with entries,
/// resuming where the previous call of the same dump stopped.
///
/// # Invariants
///
/// `skb` and `cb` are the arguments of the running `dumpit` call.
pub(crate) struct Dump<'a> {
    skb: *mut bindings::sk_buff,
    cb: *mut bindings::netlink_callback,
    _call: PhantomData<&'a mut bindings::netlink_callback>,
}

impl<'a> Dump<'a> {
    /// Wraps the arguments of a `dumpit` call.
    ///
    /// # Safety
    ///
    /// `skb` and `cb` must be the arguments of a running `dumpit` of this
    /// family, and `'a` must not outlive the call.
    pub(crate) unsafe fn from_raw(
        skb: *mut bindings::sk_buff,
        cb: *mut bindings::netlink_callback,
    ) -> Self {
        Self {
            skb,
            cb,
            _call: PhantomData,
        }
    }

    /// The namespace of the requesting socket.
    pub(crate) fn net(&self) -> *mut bindings::net {
        // SAFETY: `cb` is valid (type invariant).
        unsafe { bindings::tpc_dump_net(self.cb) }
    }

    /// Dumps the entries `entry(0)`, `entry(1)`, ... until it returns
    /// `None`, each as one message of command `cmd` written by `fill`.
    /// Returns what `dumpit` must return: the length filled, 0 when done.
    pub(crate) fn entries<T>(
        &mut self,
        cmd: u8,
        mut entry: impl FnMut(usize) -> Option<T>,
        mut fill: impl FnMut(&mut Message, &T) -> Result,
    ) -> i32 {
        // SAFETY: `cb` is valid (type invariant).
        let mut index = usize::try_from(unsafe { bindings::tpc_dump_cursor(self.cb) }).unwrap_or(0);
        let mut filled = 0;
        while let Some(item) = entry(index) {
            // SAFETY: `skb` and `cb` are valid (type invariant).
            let hdr = unsafe { bindings::tpc_genlmsg_put_dump(self.skb, self.cb, cmd) };
            let mut msg = Message { skb: self.skb };
            if hdr.is_null() || fill(&mut msg, &item).is_err() {
                if !hdr.is_null() {
                    // SAFETY: `hdr` was just put into `skb`.
                    unsafe { bindings::tpc_genlmsg_cancel(self.skb, hdr) };
                }
                break;
            }
            // SAFETY: `hdr` was just put into `skb`.
            unsafe { bindings::tpc_genlmsg_end(self.skb, hdr) };
            index += 1;
            filled += 1;
        }
        // SAFETY: `cb` is valid (type invariant).
        unsafe { bindings::tpc_dump_set_cursor(self.cb, index as _) };
        if filled == 0 {
            0
        } else {
            // SAFETY: `skb` is valid (type invariant).
            unsafe { (*self.skb).len as i32 }
        }
    }
}
