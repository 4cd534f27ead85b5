//! The appliance kernel: one `no_std` image that boots on ARMv7 and AArch64
//! boards and serves the 2048 game over its own network stack.
//!
//! Layers (each module says more): `arch` is the CPU, `drivers` the devices,
//! `net` the smoltcp stack and executor, `services` what the appliance does
//! on the network. Boards wire them together with `entry!`.

#![cfg_attr(not(test), no_std)]

extern crate alloc;

pub mod services;

#[cfg(target_os = "none")]
pub mod arch;
