// SPDX-License-Identifier: GPL-2.0

//! Per-network-namespace state, registered with `pernet_operations`.
//!
//! Each namespace is an independent tpcluster node. The pernet core
//! allocates a zeroed [`Slot`] for every namespace, and this glue builds the
//! module's state in it, registers the state's netfilter hooks and its
//! `/proc/net` file, and takes both down again before the state is dropped.

use super::{
    bindings,
    netdev::NetNs,
    netfilter::{Hook, Ipv4Hooks, Point},
    seq_file::SeqFile,
};
use core::{
    ffi::c_void,
    fmt,
    marker::PhantomData,
    ptr::addr_of_mut,
    sync::atomic::{AtomicBool, AtomicU32, Ordering},
};
use kernel::{error::to_result, ffi::c_int, prelude::*, types::Opaque};

/// The state tpcluster keeps in each network namespace.
pub(crate) trait PerNet: Ipv4Hooks + Sized + Send + 'static {
    /// Name of the namespace's file in `/proc/net`.
    const PROC_NAME: &'static CStr;

    /// Builds the state of the new namespace `net` in place (process
    /// context, may sleep).
    fn new(net: NetNs) -> impl PinInit<Self, Error>;

    /// Starts what runs on its own once the state is in place (process
    /// context). The state stays at this address until it is dropped.
    fn start(&self) -> Result;

    /// Writes the namespace's `/proc/net` file (process context).
    fn show(&self, out: &mut SeqFile) -> fmt::Result;
}

/// What the pernet core allocates per namespace (`pernet_operations.size`).
///
/// Fields drop in declaration order: the hooks are unregistered (waiting
/// for running calls) before the state they point at is dropped.
struct Slot<T> {
    hook_in: Hook,
    hook_out: Hook,
    state: T,
}

/// The id the pernet core assigns to tpcluster's per-namespace slot; written
/// by `register_pernet_subsys` before any namespace is initialised.
static NET_ID: AtomicU32 = AtomicU32::new(0);

/// Only one registration can own [`NET_ID`].
static REGISTERED: AtomicBool = AtomicBool::new(false);

/// The registration of `T` as tpcluster's per-namespace state.
///
/// # Invariants
///
/// `ops` is registered with the pernet core from construction until drop,
/// and this registration owns [`NET_ID`].
pub(crate) struct Registration<T: PerNet> {
    ops: Pin<KBox<Opaque<bindings::pernet_operations>>>,
    _state: PhantomData<T>,
}

// SAFETY: the pernet core serialises (un)registration; we hand out no access
// to `ops` after registering it.
unsafe impl<T: PerNet> Send for Registration<T> {}
// SAFETY: as above; `&Registration` exposes nothing.
unsafe impl<T: PerNet> Sync for Registration<T> {}

impl<T: PerNet> Registration<T> {
    /// Registers `T`: builds its state in every existing namespace now, and
    /// in every namespace created until the registration is dropped.
    pub(crate) fn new() -> Result<Self> {
        const {
            // The pernet core allocates slots with kzalloc: ARCH_KMALLOC_MINALIGN (8) aligned.
            assert!(core::mem::align_of::<Slot<T>>() <= 8);
        }
        if REGISTERED.swap(true, Ordering::AcqRel) {
            return Err(EBUSY);
        }
        let ops = bindings::pernet_operations {
            init: Some(init::<T>),
            exit: Some(exit::<T>),
            id: NET_ID.as_ptr(),
            size: core::mem::size_of::<Slot<T>>(),
            ..Default::default()
        };
        let registered = KBox::pin(Opaque::new(ops), GFP_KERNEL)
            .map_err(Error::from)
            .and_then(|ops| {
                // SAFETY: `ops` is pinned in a box that the registration
                // keeps until `drop`, which unregisters it.
                to_result(unsafe { bindings::register_pernet_subsys(ops.get()) })?;
                Ok(ops)
            });
        match registered {
            Ok(ops) => Ok(Self {
                ops,
                _state: PhantomData,
            }),
            Err(e) => {
                REGISTERED.store(false, Ordering::Release);
                Err(e)
            }
        }
    }
}

impl<T: PerNet> Drop for Registration<T> {
    fn drop(&mut self) {
        // SAFETY: registered since construction (type invariant). This runs
        // `exit` for every namespace and returns when all have finished.
        unsafe { bindings::unregister_pernet_subsys(self.ops.get()) };
        REGISTERED.store(false, Ordering::Release);
    }
}

/// The slot of `net`.
///
/// # Safety
///
/// `net` must be live and tpcluster's pernet registration active, so that the
/// slot is allocated (it is freed only after `exit` for `net` has returned).
unsafe fn slot<T>(net: *const bindings::net) -> *mut Slot<T> {
    // SAFETY: `net` is live (caller); `net_generic` takes the RCU lock itself.
    unsafe { bindings::tpc_net_generic(net, NET_ID.load(Ordering::Acquire)) }.cast::<Slot<T>>()
}

/// `pernet_operations.init`: builds the state and its registrations.
///
/// # Safety
///
/// Called by the pernet core for a namespace whose zeroed slot it has
/// allocated; no other call for this namespace runs concurrently.
unsafe extern "C" fn init<T: PerNet>(net: *mut bindings::net) -> c_int {
    // SAFETY: the core allocated the slot before calling `init`.
    let slot = unsafe { slot::<T>(net) };
    // SAFETY: the namespace outlives its state, which `exit` drops.
    let ns = unsafe { NetNs::from_raw(net) };
    // SAFETY: the slot is allocated, suitably aligned (checked in `new`)
    // and not yet initialised; `init` is its only user, and the state will
    // not move: the slot stays put until the core frees it after `exit`.
    if let Err(e) = unsafe { T::new(ns).__pinned_init(addr_of_mut!((*slot).state)) } {
        return e.to_errno();
    }
    // SAFETY: initialised just above, and pinned in the slot.
    if let Err(e) = unsafe { &*addr_of_mut!((*slot).state) }.start() {
        // SAFETY: initialised above and no longer used; the hook field is
        // not initialised yet, so only the state is dropped.
        unsafe { core::ptr::drop_in_place(addr_of_mut!((*slot).state)) };
        return e.to_errno();
    }
    // SAFETY: as above, for the hook fields.
    unsafe {
        addr_of_mut!((*slot).hook_in).write(Hook::new());
        addr_of_mut!((*slot).hook_out).write(Hook::new());
    }
    for point in [Point::PreRouting, Point::PostRouting] {
        // SAFETY: the slot stays at this address until the core frees it
        // after `exit`, so the hooks are pinned.
        let hook = unsafe {
            Pin::new_unchecked(&mut *match point {
                Point::PreRouting => addr_of_mut!((*slot).hook_in),
                Point::PostRouting => addr_of_mut!((*slot).hook_out),
            })
        };
        // SAFETY: `net` is live; the handler (the state) lives in the slot
        // until `exit` drops it, after unregistering the hooks.
        if let Err(e) = unsafe { hook.register(net, point, addr_of_mut!((*slot).state)) } {
            // SAFETY: initialised above and no longer used.
            unsafe { core::ptr::drop_in_place(slot) };
            return e.to_errno();
        }
    }
    // SAFETY: `net` is live, so is its `proc_net` directory; `PROC_NAME` is
    // a NUL-terminated static string; `show` finds the state through `net`.
    let entry = unsafe {
        bindings::proc_create_net_single(
            T::PROC_NAME.as_char_ptr(),
            0o444,
            bindings::tpc_net_proc_dir(net),
            Some(show::<T>),
            core::ptr::null_mut(),
        )
    };
    if entry.is_null() {
        // SAFETY: initialised above; dropping the slot unregisters the hook.
        unsafe { core::ptr::drop_in_place(slot) };
        return ENOMEM.to_errno();
    }
    0
}

/// `pernet_operations.exit`: removes the registrations, then drops the state.
///
/// # Safety
///
/// Called by the pernet core once for a namespace whose `init` succeeded.
unsafe extern "C" fn exit<T: PerNet>(net: *mut bindings::net) {
    // SAFETY: the slot is allocated until after `exit` returns.
    let slot = unsafe { slot::<T>(net) };
    // SAFETY: `net` is still live. `remove_proc_entry` waits for running
    // `show` calls, so none uses the state after this.
    unsafe {
        bindings::remove_proc_entry(T::PROC_NAME.as_char_ptr(), bindings::tpc_net_proc_dir(net))
    };
    // SAFETY: initialised by `init`. Dropping the slot unregisters the hook,
    // waiting for running hook calls, before it drops the state.
    unsafe { core::ptr::drop_in_place(slot) };
}

/// The state of the namespace `net`.
///
/// # Safety
///
/// `net` must be a live namespace, tpcluster's registration of `T` must be
/// active, and the caller must not let the reference outlive either (for
/// instance, a netlink request in `net`: the family is registered after, and
/// unregistered before, the per-namespace states).
pub(crate) unsafe fn state<'a, T: PerNet>(net: *const bindings::net) -> &'a T {
    // SAFETY: by the contract, `init` has built the state and `exit` has not
    // run for `net`.
    unsafe { &(*slot::<T>(net)).state }
}

/// `show` of the `/proc/net` file.
///
/// # Safety
///
/// Called by the seq_file core for a file created by `init`, whose
/// `private` field is the namespace (`proc_create_net_single`), which holds
/// a reference on it while the file is open.
unsafe extern "C" fn show<T: PerNet>(seq: *mut bindings::seq_file, _v: *mut c_void) -> c_int {
    // SAFETY: `seq` is the seq_file of this running `show` call.
    let out = unsafe { SeqFile::from_raw(seq) };
    let net = out.private().cast::<bindings::net>();
    // SAFETY: the file exists, so `init` has completed and `exit` has not
    // removed it yet: the slot holds a live state.
    let state = unsafe { state::<T>(net) };
    // A full buffer is not an error: the seq_file core retries with a larger one.
    let _ = state.show(out);
    0
}
