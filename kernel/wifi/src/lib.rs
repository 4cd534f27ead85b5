//! The appliance's own 802.11 access point, sans-IO: frames in, frames out.
#![no_std]
#![forbid(unsafe_code)]

extern crate alloc;

pub mod rsn;
