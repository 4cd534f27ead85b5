//! Device drivers: one file per device. Registers are touched only here,
//! through `mmio::Mmio` windows the chip layer hands out.
//!
//! A driver implements a device-class trait (`devices`, `net::device`); the
//! chip layer (see `chip`) says which drivers a SoC has and where.

pub mod dma;
pub mod ehci;
pub mod generic_timer;
pub mod gic;
pub mod mii;
pub mod mmio;
pub mod ns16550;
pub mod ohci;
pub mod pl011;
pub mod sun4i_emac;
pub mod sun4i_intc;
pub mod sun4i_timer;
pub mod sun8i_emac;
pub mod sunxi_mmc;
pub mod virtio;
pub mod virtual_radio;
pub mod watchdog;
