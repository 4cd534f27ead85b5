//! The device classes the kernel core uses, as small traits: what wakes the
//! CPU (`InterruptController`, `WakeTimer`), where the console goes
//! (`Uart`) and where the leaderboard is kept (`BlockStore`). The NIC's trait, `net::device::NetDevice`, sits beside smoltcp.
//!
//! Drivers implement these; the chip layer picks which; the idle loop and the
//! console are written once against them. A new class of device (a radio, a
//! USB host) is a new trait here, not a new `match` in the core.

#![deny(unsafe_code)]

/// An interrupt taken from the controller, to be ended with `end`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Pending {
    /// The interrupt number, in the controller's numbering.
    pub irq: u32,
    /// What the controller needs back to end it (the GIC's IAR value).
    pub token: u32,
}

/// An interrupt controller, used only to end WFI: interrupts stay masked at
/// the CPU and the idle loop asks what is pending after each wake-up.
pub trait InterruptController {
    /// Lets `irq` reach the CPU (and so end WFI).
    fn enable(&self, irq: u32);
    /// Takes the next pending enabled interrupt, if any. Within one drain
    /// (calls until `None`) each source is returned at most once.
    fn next_pending(&self) -> Option<Pending>;
    /// Ends an interrupt taken with `next_pending`, after its source was silenced.
    fn end(&self, pending: Pending);
}

/// A one-shot alarm that raises an interrupt at a deadline.
pub trait WakeTimer {
    /// Its interrupt number at the interrupt controller.
    fn irq(&self) -> u32;
    /// Fires at `deadline_us` (µs since power-on; at once if it has passed),
    /// or never for `None`.
    fn arm(&self, deadline_us: Option<u64>);
    /// Silences the alarm after it fired (or after any wake-up).
    fn acknowledge(&self);
}

/// A serial port's transmit side: where the console writes.
pub trait Uart: Sync {
    /// Writes `byte` if the transmitter has room; false if it is busy.
    fn try_write_byte(&self, byte: u8) -> bool;
    /// Writes `bytes`, waiting for room as needed (bounded: a wedged UART
    /// must not hang a crash report).
    fn write_bytes(&self, bytes: &[u8]);
}

/// Bytes in a block of a `BlockStore`: the sector of SD cards and virtio-blk.
pub const BLOCK: usize = 512;

/// Blocks of a disk or card the leaderboard uses at most (128 KiB): its
/// journal keeps 30 games, and a bigger area only lengthens the scan at boot.
pub const MAX_AREA_BLOCKS: u32 = 256;

/// A block device, or RAM standing in for one: what the leaderboard's
/// journal writes to, so it survives a power cut where the board has storage.
pub trait BlockStore {
    /// Reads block `block` into `buf`.
    fn read(&mut self, block: u32, buf: &mut [u8; BLOCK]) -> Result<(), StoreError>;
    /// Writes `data` to block `block`; when it returns Ok the block is on the
    /// medium (written through any device cache), so an acknowledged score stays.
    fn write(&mut self, block: u32, data: &[u8; BLOCK]) -> Result<(), StoreError>;
    /// Blocks in the area.
    fn blocks(&self) -> u32;
    /// True when what is written survives a reboot (`/stats.json` says
    /// "disk"), false for RAM ("ram").
    fn persistent(&self) -> bool;
}

/// The device failed an operation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct StoreError;
