//! What a board is made of, as a board crate declares it: memory, console,
//! interrupt controller and NIC. The kernel starts from this description.

use crate::console::Uart;
use crate::drivers::virtio::VirtioMmioSlots;

/// A board's hardware, in the words the kernel's drivers understand.
pub struct Board {
    /// The board's name as people say it, for the boot log.
    pub name: &'static str,
    /// RAM start and size to assume when the DTB says nothing.
    pub ram: (usize, usize),
    /// The serial console.
    pub uart: Uart,
    /// GICv2 distributor and CPU interface addresses.
    pub gic: (usize, usize),
    /// virtio-mmio slots to scan for the NIC and entropy.
    pub virtio: VirtioMmioSlots,
}

/// Defines the entry point a board's image starts in: the arch entry code
/// calls it with the DTB address from the boot loader.
#[macro_export]
macro_rules! entry {
    ($board:expr) => {
        #[no_mangle]
        extern "C" fn kernel_main(dtb: usize) -> ! {
            $crate::start(&$board, dtb)
        }
    };
}
