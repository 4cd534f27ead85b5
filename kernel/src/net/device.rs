//! The network driver boundary, and its adapter to smoltcp's `phy::Device`.
//!
//! A NIC driver only moves whole Ethernet frames in and out (`NetDevice`);
//! the adapter gives smoltcp its token interface and counts every frame and
//! drop for `/stats.json`. A new board's NIC is a new `NetDevice`, nothing more.

use smoltcp::phy::{self, DeviceCapabilities, Medium};
use smoltcp::time::Instant;

use crate::services::stats::STATS;

/// Largest Ethernet frame handled: 1500 bytes of payload, header and VLAN tag.
pub const MAX_FRAME: usize = 1518;
/// IP MTU the stack is told about.
pub const MTU: usize = 1500;

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
    /// The GIC interrupt that signals received frames, if it has one.
    fn interrupt_id(&self) -> Option<u32>;
    /// Clears the NIC's interrupt condition after a wake-up.
    fn acknowledge_interrupt(&mut self);
}

/// A `NetDevice` as smoltcp sees it.
pub struct SmoltcpDevice<D: NetDevice> {
    /// The driver.
    pub driver: D,
    rx_frame: [u8; MAX_FRAME],
    tx_frame: [u8; MAX_FRAME],
}

impl<D: NetDevice> SmoltcpDevice<D> {
    /// Wraps a driver.
    pub fn new(driver: D) -> Self {
        Self { driver, rx_frame: [0; MAX_FRAME], tx_frame: [0; MAX_FRAME] }
    }
}

/// A received frame lent to smoltcp.
pub struct RxToken<'a>(&'a [u8]);

/// Permission to send one frame, lent to smoltcp.
pub struct TxToken<'a, D: NetDevice> {
    driver: &'a mut D,
    frame: &'a mut [u8; MAX_FRAME],
}

impl<D: NetDevice> phy::Device for SmoltcpDevice<D> {
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
                    STATS.rx_frames.increment();
                    let tx = TxToken { driver: &mut self.driver, frame: &mut self.tx_frame };
                    return Some((RxToken(&self.rx_frame[..len]), tx));
                }
                Received::Dropped => STATS.rx_dropped.increment(),
                Received::Nothing => return None,
            }
        }
    }

    fn transmit(&mut self, _timestamp: Instant) -> Option<Self::TxToken<'_>> {
        self.driver
            .can_transmit()
            .then_some(TxToken { driver: &mut self.driver, frame: &mut self.tx_frame })
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
            STATS.tx_frames.increment();
        } else {
            STATS.tx_dropped.increment();
        }
        result
    }
}
