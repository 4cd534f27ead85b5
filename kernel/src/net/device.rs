//! The network driver boundary, and its adapter to smoltcp's `phy::Device`.
//!
//! A NIC driver only moves whole Ethernet frames in and out (`NetDevice`);
//! the adapter gives smoltcp its token interface and counts every frame and
//! drop in its `NicCounters`. A new board's NIC is a new `NetDevice`, nothing more.

#![deny(unsafe_code)]

use alloc::boxed::Box;

use smoltcp::phy::{self, DeviceCapabilities, Medium};
use smoltcp::time::Instant;

use super::datagram::DatagramGate;
use super::syn_gate::SynGate;
use crate::counters::Counter;

/// Largest Ethernet frame handled: 1500 bytes of payload, header and VLAN tag.
pub const MAX_FRAME: usize = 1518;
/// IP MTU the stack is told about.
pub const MTU: usize = 1500;

/// A MAC address as people write it (`02:00:00:00:00:01`), for logs.
pub struct MacDisplay(pub [u8; 6]);

impl core::fmt::Display for MacDisplay {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        let [a, b, c, d, e, g] = self.0;
        write!(f, "{a:02x}:{b:02x}:{c:02x}:{d:02x}:{e:02x}:{g:02x}")
    }
}

/// What a receive attempt produced.
pub enum Received {
    /// A frame of this many bytes is in the caller's buffer.
    Frame(usize),
    /// The NIC had a frame but it was bad (too long, runt, errored): dropped.
    Dropped,
    /// Nothing waiting.
    Nothing,
}

/// What the kernel needs from a NIC driver.
pub trait NetDevice {
    /// The station address, as the hardware (or QEMU) assigned it.
    fn mac_address(&self) -> [u8; 6];
    /// Copies the next received frame into `frame` (at least `MAX_FRAME` bytes).
    fn receive(&mut self, frame: &mut [u8]) -> Received;
    /// True when `transmit` would accept a frame now (may reclaim sent buffers).
    fn can_transmit(&mut self) -> bool;
    /// Queues one frame for sending; false if the NIC refused it.
    fn transmit(&mut self, frame: &[u8]) -> bool;
    /// The interrupts that signal received frames (none: the NIC is polled).
    fn interrupt_ids(&self) -> alloc::vec::Vec<u32>;
    /// Clears the NIC's interrupt condition after a wake-up.
    fn acknowledge_interrupt(&mut self);
    /// True if a received frame is known to be waiting: the idle loop does
    /// not sleep then (a polled A10 EMAC FIFO, a sun8i descriptor). Drivers
    /// that cannot tell say false and rely on their interrupt to end WFI.
    fn frame_pending(&self) -> bool {
        false
    }
    /// True if the driver watches its PHY's link, which needs a wake-up
    /// about once a second even when the network is quiet.
    fn polls_link(&self) -> bool {
        false
    }
    /// Does the device's own timed work (an access point's beacons and
    /// retries), called on every pass of the network loop; returns when it
    /// next needs to run, if it has such work.
    fn service(&mut self, _now_us: u64) -> Option<u64> {
        None
    }
}

/// A board picks its NIC at run time from its chip and wiring, so the
/// kernel holds it boxed; one indirect call per frame costs nothing next to
/// the frame copy.
impl NetDevice for Box<dyn NetDevice + '_> {
    fn mac_address(&self) -> [u8; 6] {
        (**self).mac_address()
    }
    fn receive(&mut self, frame: &mut [u8]) -> Received {
        (**self).receive(frame)
    }
    fn can_transmit(&mut self) -> bool {
        (**self).can_transmit()
    }
    fn transmit(&mut self, frame: &[u8]) -> bool {
        (**self).transmit(frame)
    }
    fn interrupt_ids(&self) -> alloc::vec::Vec<u32> {
        (**self).interrupt_ids()
    }
    fn acknowledge_interrupt(&mut self) {
        (**self).acknowledge_interrupt()
    }
    fn frame_pending(&self) -> bool {
        (**self).frame_pending()
    }
    fn polls_link(&self) -> bool {
        (**self).polls_link()
    }
    fn service(&mut self, now_us: u64) -> Option<u64> {
        (**self).service(now_us)
    }
}

/// What crossed the NIC boundary, for `/stats.json`.
#[derive(Debug, Default)]
pub struct NicCounters {
    /// Ethernet frames received.
    pub rx_frames: Counter,
    /// Ethernet frames sent.
    pub tx_frames: Counter,
    /// Received frames dropped (bad length, errors).
    pub rx_dropped: Counter,
    /// Frames the NIC refused to send, and UDP replies the stack could not queue.
    pub tx_dropped: Counter,
    /// Connection requests left unanswered while every slot of their port
    /// was busy (`SynGate`): the client retries instead of being reset.
    pub syn_held: Counter,
}

/// A `NetDevice` as smoltcp sees it.
pub struct SmoltcpDevice<'c, D: NetDevice> {
    /// The driver.
    pub driver: D,
    /// Where frames and drops are counted.
    pub counters: &'c NicCounters,
    /// Which connection requests the slots can take in this pass.
    pub syn_gate: SynGate,
    /// Which datagrams the UDP services' queues can take in this pass.
    pub datagram_gate: DatagramGate,
    rx_frame: [u8; MAX_FRAME],
    tx_frame: [u8; MAX_FRAME],
}

impl<'c, D: NetDevice> SmoltcpDevice<'c, D> {
    /// Wraps a driver, counting into `counters`.
    pub fn new(driver: D, counters: &'c NicCounters) -> Self {
        Self { driver, counters, syn_gate: SynGate::default(), datagram_gate: DatagramGate::default(), rx_frame: [0; MAX_FRAME], tx_frame: [0; MAX_FRAME] }
    }
}

/// A received frame lent to smoltcp.
pub struct RxToken<'a>(&'a [u8]);

/// Permission to send one frame, lent to smoltcp.
pub struct TxToken<'a, D: NetDevice> {
    driver: &'a mut D,
    frame: &'a mut [u8; MAX_FRAME],
    counters: &'a NicCounters,
}

impl<D: NetDevice> phy::Device for SmoltcpDevice<'_, D> {
    type RxToken<'a>
        = RxToken<'a>
    where
        Self: 'a;
    type TxToken<'a>
        = TxToken<'a, D>
    where
        Self: 'a;

    fn receive(&mut self, _timestamp: Instant) -> Option<(Self::RxToken<'_>, Self::TxToken<'_>)> {
        loop {
            match self.driver.receive(&mut self.rx_frame) {
                Received::Frame(len) => {
                    self.counters.rx_frames.increment();
                    if !self.syn_gate.admits(&self.rx_frame[..len]) {
                        self.counters.syn_held.increment();
                        continue;
                    }
                    if !self.datagram_gate.admits(&self.rx_frame[..len]) {
                        continue;
                    }
                    let tx = TxToken { driver: &mut self.driver, frame: &mut self.tx_frame, counters: self.counters };
                    return Some((RxToken(&self.rx_frame[..len]), tx));
                }
                Received::Dropped => self.counters.rx_dropped.increment(),
                Received::Nothing => return None,
            }
        }
    }

    fn transmit(&mut self, _timestamp: Instant) -> Option<Self::TxToken<'_>> {
        self.driver
            .can_transmit()
            .then_some(TxToken { driver: &mut self.driver, frame: &mut self.tx_frame, counters: self.counters })
    }

    fn capabilities(&self) -> DeviceCapabilities {
        let mut caps = DeviceCapabilities::default();
        caps.medium = Medium::Ethernet;
        caps.max_transmission_unit = MTU + 14;
        caps.max_burst_size = Some(1);
        caps
    }
}

impl phy::RxToken for RxToken<'_> {
    fn consume<R, F: FnOnce(&[u8]) -> R>(self, f: F) -> R {
        f(self.0)
    }
}

impl<D: NetDevice> phy::TxToken for TxToken<'_, D> {
    fn consume<R, F: FnOnce(&mut [u8]) -> R>(self, len: usize, f: F) -> R {
        let len = len.min(MAX_FRAME);
        let result = f(&mut self.frame[..len]);
        if self.driver.transmit(&self.frame[..len]) {
            self.counters.tx_frames.increment();
        } else {
            self.counters.tx_dropped.increment();
        }
        result
    }
}
