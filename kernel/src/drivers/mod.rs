//! Device drivers: one file per device. Registers are touched only here.

pub mod gic;
pub mod pl011;
pub mod virtio;
