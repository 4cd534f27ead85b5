//! The CPU architecture layer: the same small set of functions for ARMv7-A
//! and AArch64 (entry, MMU, monotonic counter, timer wake-up, PSCI, faults).

#[cfg(target_arch = "aarch64")]
mod aarch64;
#[cfg(target_arch = "aarch64")]
pub use aarch64::*;

#[cfg(target_arch = "arm")]
mod armv7;
#[cfg(target_arch = "arm")]
pub use armv7::*;
