//! WPA2-Personal for the access point: the PSK, the 4-way handshake as
//! authenticator, and CCMP protection of data frames.
//!
//! Sans-IO like the rest of the crate: EAPOL frames and 802.11 frames in,
//! frames out, time passed in. IEEE 802.11-2016 clause 12; the cryptographic
//! primitives are RustCrypto's.

mod ccmp;
mod eapol;
mod element;
mod handshake;
mod keys;
#[cfg(test)]
mod testutil;

pub use ccmp::{CcmpError, GroupKey, PairwiseKey};
pub use element::{check_station_rsn, rsn_element, RsnError};
pub use handshake::{Authenticator, HandshakeError, Step, RETRY_US, TRANSMISSIONS};
pub use keys::{PassphraseError, Psk};
