//! The appliance kernel: one `no_std` image that boots on ARMv7 and AArch64
//! boards and serves the 2048 game over its own network stack.
//!
//! Layers (each module says more): `arch` is the CPU, `drivers` the devices,
//! `net` the smoltcp stack and executor, `services` what the appliance does
//! on the network. Boards describe their hardware in a `Board` and call
//! `entry!`; `start` brings the layers up in order and times each stage.

#![cfg_attr(not(test), no_std)]

extern crate alloc;

pub mod dtb;
pub mod net;
pub mod services;

#[cfg(target_os = "none")]
pub mod arch;
#[cfg(target_os = "none")]
pub mod board;
#[cfg(target_os = "none")]
pub mod console;
#[cfg(target_os = "none")]
mod crash;
#[cfg(target_os = "none")]
pub mod drivers;
#[cfg(target_os = "none")]
mod heap;
#[cfg(target_os = "none")]
mod runtime;
#[cfg(target_os = "none")]
mod time;

#[cfg(target_os = "none")]
pub use runtime::start;
