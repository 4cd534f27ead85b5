//! The appliance kernel: one `no_std` image that boots on ARMv7 and AArch64
//! boards and serves the 2048 game over its own network stack.
//!
//! Layers, top to bottom (docs/architecture.md draws them): `services` is
//! what the appliance does on the network; `net` the smoltcp stack, the TCP
//! slots and the executor; `devices` and `net::device` the traits at the
//! hardware boundary; `drivers` one file per device; `chip` one file per SoC;
//! `arch` the CPU. Boards name a chip in a `Board` and call `entry!`;
//! `start` brings the layers up in order and times each stage. Imports only
//! run downward, and figures flow down too: each layer owns its counters.
//!
//! `unsafe` is denied here and allowed only in the modules that touch
//! hardware or raw memory: `arch`, `chip`, `drivers`, `heap`, `time`, the
//! DTB reader's boot half, and `crash` (its record lives in a `.noinit`
//! link section that a reset keeps).

#![cfg_attr(not(test), no_std)]
#![deny(unsafe_code)]

extern crate alloc;

pub mod counters;
pub mod dtb;
pub mod net;
pub mod partition;
pub mod rt2800;
pub mod sd;
pub mod services;
pub mod usb;

#[cfg(target_os = "none")]
#[allow(unsafe_code)]
pub mod arch;
#[cfg(target_os = "none")]
pub mod board;
#[cfg(target_os = "none")]
#[allow(unsafe_code)]
pub mod chip;
#[cfg(target_os = "none")]
pub mod console;
#[cfg(target_os = "none")]
#[allow(unsafe_code)]
mod crash;
pub mod devices;
#[cfg(target_os = "none")]
#[allow(unsafe_code)]
pub mod drivers;
#[cfg(target_os = "none")]
#[allow(unsafe_code)]
mod heap;
#[cfg(target_os = "none")]
mod idle;
#[cfg(target_os = "none")]
mod runtime;
#[cfg(target_os = "none")]
#[allow(unsafe_code)]
mod time;

#[cfg(target_os = "none")]
pub use runtime::start;
