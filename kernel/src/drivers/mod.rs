//! Device drivers: one file per device. Registers are touched only here.
//!
//! A board (see `board`) names which of these it has and where; adding a
//! SoC means adding its drivers here and a wiring crate under `boards/`.

pub mod dma;
pub mod gic;
pub mod mii;
pub mod mmio;
pub mod nic;
pub mod ns16550;
pub mod pl011;
pub mod sun4i_emac;
pub mod sun4i_intc;
pub mod sun4i_timer;
pub mod sun8i_emac;
pub mod virtio;
pub mod watchdog;
