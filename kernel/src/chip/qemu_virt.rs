//! QEMU's `virt` machine (ARMv7 and AArch64 alike): PL011, GICv2, the
//! generic timer and 32 virtio-mmio slots (virtio-net, virtio-rng, and a
//! second virtio-net as the virtual radio's link), as QEMU's hw/arm/virt.c
//! lays them out.

use alloc::boxed::Box;

use super::{window, Chip, Devices};
use crate::devices::{BlockStore, Uart};
use crate::drivers::generic_timer::GenericTimerAlarm;
use crate::drivers::gic::Gic;
use crate::drivers::pl011::Pl011;
use crate::drivers::virtio::{self, VirtioMmioSlots};
use crate::drivers::virtual_radio::VirtualRadio;
use crate::drivers::watchdog::Watchdog;
use crate::net::device::NetDevice;
use crate::net::radio::Radio;
use crate::time::Clock;

static UART: Pl011 = Pl011::new(window(0x0900_0000, 0x1000));

/// QEMU `virt`.
pub struct QemuVirt;

impl Chip for QemuVirt {
    fn clock(&self) -> Clock {
        Clock::GenericTimer
    }

    fn uart(&self) -> &'static dyn Uart {
        &UART
    }

    fn watchdog(&self) -> Option<Watchdog> {
        None
    }

    fn devices(&self, _fallback_mac: [u8; 6]) -> Devices {
        let slots = VirtioMmioSlots { regs: window(0x0a00_0000, 32 * 0x200), count: 32, stride: 0x200, first_intid: 48 };
        let found = virtio::probe(&slots);
        let mut entropy = None;
        if let Some(rng) = found.rng {
            virtio::install_entropy(rng);
            entropy = Some(virtio::entropy as fn(&mut [u8]) -> bool);
        }
        let gic = Gic::new(window(0x0800_0000, 0x1_0000), window(0x0801_0000, 0x1_0000));
        Devices {
            nic: found.net.map(|net| Box::new(net) as Box<dyn NetDevice>),
            radio: found.radio_link.map(|link| Box::new(VirtualRadio::new(link)) as Box<dyn Radio>),
            wake: Some((Box::new(gic), Box::new(GenericTimerAlarm))),
            entropy,
            storage: found.block.map(|disk| Box::new(disk) as Box<dyn BlockStore>),
        }
    }
}
