//! What the appliance does on the network: HTTP routes, the embedded site and
//! the live statistics. No `unsafe`, no registers: every service builds and is
//! unit-tested on the host.

pub mod captive;
pub mod config;
pub mod dhcp;
pub mod dns;
pub mod http;
pub mod leaderboard;
pub mod serve;
pub mod site;
pub mod stats;
pub mod tls;
