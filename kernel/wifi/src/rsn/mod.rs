//! WPA2-Personal for the access point: the PSK, the 4-way handshake as
//! authenticator, and CCMP protection of data frames.
//!
//! Sans-IO like the rest of the crate: EAPOL frames and 802.11 frames in,
//! frames out, time passed in. IEEE 802.11-2016 clause 12; the cryptographic
//! primitives are RustCrypto's.
//!
//! ```no_run
//! use wifi::rsn::{check_station_rsn, Authenticator, GroupKey, Psk, Step};
//! # fn station(rng: &mut dyn rand_core::RngCore, aa: [u8; 6], spa: [u8; 6], assoc_rsn: &[u8], eapol: &[u8]) {
//! let psk = Psk::from_passphrase("play 2048 here", b"2048").unwrap(); // at boot
//! let gtk = GroupKey::new(rng); // at boot, for group-addressed frames
//! // (Re)association request: refuse with `err.status_code()`, else answer and start.
//! check_station_rsn(assoc_rsn).unwrap();
//! let mut auth = Authenticator::new(&psk, aa, spa, assoc_rsn, &gtk, rng);
//! let message1 = auth.start(0); // send as an EAPOL data frame (LLC/SNAP, ethertype 0x888E)
//! // Each EAPOL frame from the station; `auth.poll(now)` at `auth.deadline()`.
//! match auth.receive(eapol, 1_000) {
//!     Ok(Step::Send(message3)) => {}  // send it
//!     Ok(Step::Done(key)) => {}       // key.protect / key.unprotect its data frames from now on
//!     Ok(Step::Ignore) => {}          // count
//!     Err(e) if e.is_fatal() => {}    // deauthenticate
//!     Err(e) => {}                    // count by kind; the handshake goes on
//! }
//! # }
//! ```

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
