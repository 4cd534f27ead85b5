//! The appliance's local demo CA, as a library: `ensure` makes or reuses the
//! CA in `build/tls/` and issues the appliance certificate. The kernel's
//! `build.rs` includes the same `ca.rs`, so both always agree.

mod ca;

pub use ca::*;
