//! The board's NIC, whichever driver it is: one type for the network layer.
//!
//! The kernel is generic over `NetDevice`, but a board picks its NIC at run
//! time from its description; this enum dispatches to the driver it named.
//! It also answers "is a frame waiting?" for the polling idle loop of boards
//! without a usable interrupt controller.

use super::sun4i_emac::Sun4iEmac;
use super::sun8i_emac::Sun8iEmac;
use super::virtio::VirtioNet;
use crate::net::device::{NetDevice, Received};

/// One of the kernel's NIC drivers.
pub enum BoardNic {
    /// virtio-net over MMIO (QEMU `virt`).
    Virtio(VirtioNet),
    /// Allwinner A10/A20 EMAC.
    Sun4i(Sun4iEmac),
    /// Allwinner H3/H5/A64 EMAC.
    Sun8i(Sun8iEmac),
}

macro_rules! dispatch {
    ($self:expr, $nic:ident => $body:expr) => {
        match $self {
            BoardNic::Virtio($nic) => $body,
            BoardNic::Sun4i($nic) => $body,
            BoardNic::Sun8i($nic) => $body,
        }
    };
}

impl BoardNic {
    /// True if a frame may be waiting (virtio: always worth a look).
    pub fn frame_pending(&self) -> bool {
        match self {
            BoardNic::Virtio(_) => true,
            BoardNic::Sun4i(nic) => nic.frame_pending(),
            BoardNic::Sun8i(nic) => nic.frame_pending(),
        }
    }
}

impl BoardNic {
    /// True if the driver watches its PHY's link, which needs a wake-up
    /// about once a second even when the network is quiet.
    pub fn polls_link(&self) -> bool {
        !matches!(self, BoardNic::Virtio(_))
    }
}

impl NetDevice for BoardNic {
    fn mac_address(&self) -> [u8; 6] {
        dispatch!(self, nic => nic.mac_address())
    }
    fn receive(&mut self, frame: &mut [u8]) -> Received {
        dispatch!(self, nic => nic.receive(frame))
    }
    fn can_transmit(&mut self) -> bool {
        dispatch!(self, nic => nic.can_transmit())
    }
    fn transmit(&mut self, frame: &[u8]) -> bool {
        dispatch!(self, nic => nic.transmit(frame))
    }
    fn interrupt_id(&self) -> Option<u32> {
        dispatch!(self, nic => nic.interrupt_id())
    }
    fn acknowledge_interrupt(&mut self) {
        dispatch!(self, nic => nic.acknowledge_interrupt())
    }
}
