//! virtio over MMIO (QEMU `virt`): finds devices and adapts virtio-net to the
//! kernel's `NetDevice` boundary, virtio-rng to its entropy source and
//! virtio-blk to the leaderboard's `BlockStore`.
//!
//! The device logic comes from `virtio-drivers` (legacy and modern MMIO
//! transports); this file holds the slot scan and the DMA glue. Memory is
//! identity-mapped, so a buffer's physical address is its virtual address.

use alloc::alloc::{alloc_zeroed, dealloc, Layout};
use alloc::boxed::Box;
use alloc::vec;
use alloc::vec::Vec;
use core::ptr::NonNull;

use virtio_drivers::device::blk::VirtIOBlk;
use virtio_drivers::device::net::VirtIONetRaw;
use virtio_drivers::device::rng::VirtIORng;
use virtio_drivers::transport::mmio::{MmioTransport, VirtIOHeader};
use virtio_drivers::transport::{DeviceType, Transport};
use virtio_drivers::{BufferDirection, Hal, PhysAddr, PAGE_SIZE};

use super::mmio::Mmio;
use crate::devices::{BlockStore, StoreError, BLOCK, MAX_AREA_BLOCKS};
use crate::net::device::{NetDevice, Received};

/// Where a machine's virtio-mmio slots are.
#[derive(Clone, Copy, Debug)]
pub struct VirtioMmioSlots {
    /// The window holding every slot, slot 0 first.
    pub regs: Mmio,
    /// How many slots to scan.
    pub count: usize,
    /// Bytes between slots.
    pub stride: usize,
    /// GIC interrupt ID of slot 0; slot N uses `first_intid + N`.
    pub first_intid: u32,
}

/// DMA for virtio-drivers: heap pages, identity-mapped.
pub struct IdentityHal;

fn dma_layout(pages: usize) -> Layout {
    Layout::from_size_align(pages * PAGE_SIZE, PAGE_SIZE).unwrap_or(Layout::new::<u8>())
}

// SAFETY: allocations are page-aligned, zeroed and owned by the device until
// `dma_dealloc`; physical and virtual addresses are equal under the identity map.
unsafe impl Hal for IdentityHal {
    fn dma_alloc(pages: usize, _direction: BufferDirection) -> (PhysAddr, NonNull<u8>) {
        // SAFETY: the layout has a non-zero size.
        let ptr = unsafe { alloc_zeroed(dma_layout(pages)) };
        let ptr = NonNull::new(ptr).unwrap_or_else(|| panic!("out of memory for {pages} DMA pages"));
        (ptr.as_ptr() as PhysAddr, ptr)
    }

    unsafe fn dma_dealloc(_paddr: PhysAddr, vaddr: NonNull<u8>, pages: usize) -> i32 {
        // SAFETY: `vaddr` came from `dma_alloc` with the same page count.
        unsafe { dealloc(vaddr.as_ptr(), dma_layout(pages)) };
        0
    }

    unsafe fn mmio_phys_to_virt(paddr: PhysAddr, _size: usize) -> NonNull<u8> {
        NonNull::new(paddr as *mut u8).unwrap_or(NonNull::dangling())
    }

    unsafe fn share(buffer: NonNull<[u8]>, _direction: BufferDirection) -> PhysAddr {
        buffer.cast::<u8>().as_ptr() as PhysAddr
    }

    unsafe fn unshare(_paddr: PhysAddr, _buffer: NonNull<[u8]>, _direction: BufferDirection) {}
}

const QUEUE_SIZE: usize = 64;
/// virtio-net buffers of a NIC: a full frame plus the virtio header, rounded up.
const NIC_BUFFER_BYTES: usize = 2048;
/// virtio-net buffers of the virtual radio's link: its MTU is 2400 (an
/// encrypted 1500-byte packet as an 802.11 frame, wrapped), plus the header.
const LINK_BUFFER_BYTES: usize = 4096;

/// The virtio devices the kernel uses, as found by `probe`.
#[derive(Default)]
pub struct VirtioDevices {
    /// The first network device on QEMU's command line (the highest slot):
    /// the NIC.
    pub net: Option<VirtioNet>,
    /// The second one, if any: the virtual radio's link (its position is
    /// what makes it the radio; see docs/wifi.md).
    pub radio_link: Option<VirtioNet>,
    /// The first entropy device.
    pub rng: Option<VirtioRng>,
    /// The first writable block device: the leaderboard's disk.
    pub block: Option<VirtioBlock>,
}

/// Scans every slot, from the top down as QEMU fills them in command-line
/// order, and claims the first two network devices, the first entropy one and
/// the first writable block device.
pub fn probe(slots: &VirtioMmioSlots) -> VirtioDevices {
    let mut found = VirtioDevices::default();
    for slot in (0..slots.count).rev() {
        let window = slots.regs.window(slot * slots.stride, slots.stride);
        let Some(header) = NonNull::new(window.address() as *mut VirtIOHeader) else { continue };
        // SAFETY: each slot is a virtio-mmio register window of `stride`
        // bytes inside the window the chip layer vouched for, claimed once.
        let Ok(transport) = (unsafe { MmioTransport::new(header, slots.stride) }) else { continue };
        let intid = slots.first_intid + slot as u32;
        match transport.device_type() {
            DeviceType::Network if found.net.is_none() => {
                log::info!("virtio-net in slot {slot} ({:?} transport)", transport.version());
                match VirtioNet::new(transport, intid, NIC_BUFFER_BYTES) {
                    Ok(net) => found.net = Some(net),
                    Err(error) => log::error!("virtio-net in slot {slot} failed: {error:?}"),
                }
            }
            DeviceType::Network if found.radio_link.is_none() => {
                log::info!("virtio-net in slot {slot}: the virtual radio's link");
                match VirtioNet::new(transport, intid, LINK_BUFFER_BYTES) {
                    Ok(net) => found.radio_link = Some(net),
                    Err(error) => log::error!("virtio-net in slot {slot} failed: {error:?}"),
                }
            }
            DeviceType::EntropySource if found.rng.is_none() => match VirtIORng::new(transport) {
                Ok(device) => {
                    log::info!("virtio-rng in slot {slot}");
                    found.rng = Some(VirtioRng { device });
                }
                Err(error) => log::error!("virtio-rng in slot {slot} failed: {error:?}"),
            },
            DeviceType::Block if found.block.is_none() => match VirtioBlock::new(transport) {
                Ok(disk) => {
                    log::info!("virtio-blk in slot {slot}: {} blocks for the leaderboard", disk.blocks);
                    found.block = Some(disk);
                }
                Err(error) => log::error!("virtio-blk in slot {slot} not used: {error:?}"),
            },
            _ => {}
        }
    }
    found
}

/// Frames that may be in flight to the device at once.
const TX_BUFFERS: usize = 32;

/// virtio-net behind the kernel's `NetDevice` boundary.
///
/// Uses the raw (non-blocking) interface: a transmitted frame is queued and
/// its buffer reaped later, instead of spinning until the host has sent it,
/// which under QEMU costs a round trip to the I/O thread per frame.
pub struct VirtioNet {
    device: VirtIONetRaw<IdentityHal, MmioTransport<'static>, QUEUE_SIZE>,
    /// Receive buffers lent to the device, by descriptor token.
    rx_lent: Vec<Option<Box<[u8]>>>,
    /// Transmit buffers not in use.
    tx_free: Vec<Box<[u8]>>,
    /// Transmit buffers lent to the device, with their used length, by token.
    tx_lent: Vec<Option<(Box<[u8]>, usize)>>,
    intid: u32,
}

impl VirtioNet {
    fn new(transport: MmioTransport<'static>, intid: u32, buffer_bytes: usize) -> Result<Self, virtio_drivers::Error> {
        let device = VirtIONetRaw::new(transport)?;
        let mut net = Self {
            device,
            rx_lent: (0..QUEUE_SIZE).map(|_| None).collect(),
            tx_free: (0..TX_BUFFERS).map(|_| vec![0u8; buffer_bytes].into_boxed_slice()).collect(),
            tx_lent: (0..QUEUE_SIZE).map(|_| None).collect(),
            intid,
        };
        for _ in 0..QUEUE_SIZE {
            net.lend_rx(vec![0u8; buffer_bytes].into_boxed_slice())?;
        }
        Ok(net)
    }

    fn lend_rx(&mut self, mut buffer: Box<[u8]>) -> Result<(), virtio_drivers::Error> {
        // SAFETY: the buffer is kept in `rx_lent` under its token and not
        // touched until the device hands the token back.
        let token = unsafe { self.device.receive_begin(&mut buffer) }?;
        let slot = self.rx_lent.get_mut(usize::from(token)).ok_or(virtio_drivers::Error::WrongToken)?;
        *slot = Some(buffer);
        Ok(())
    }

    /// Takes back the buffers of frames the device has sent.
    fn reap_transmitted(&mut self) {
        while let Some(token) = self.device.poll_transmit() {
            let Some((buffer, len)) = self.tx_lent.get_mut(usize::from(token)).and_then(Option::take) else {
                log::error!("virtio-net returned an unknown transmit token {token}");
                return;
            };
            // SAFETY: the same buffer and length as given to `transmit_begin` for this token.
            if let Err(error) = unsafe { self.device.transmit_complete(token, &buffer[..len]) } {
                log::error!("virtio-net transmit completion failed: {error:?}");
            }
            self.tx_free.push(buffer);
        }
    }
}

impl NetDevice for VirtioNet {
    fn mac_address(&self) -> [u8; 6] {
        self.device.mac_address()
    }

    fn receive(&mut self, frame: &mut [u8]) -> Received {
        let Some(token) = self.device.poll_receive() else { return Received::Nothing };
        let Some(mut buffer) = self.rx_lent.get_mut(usize::from(token)).and_then(Option::take) else {
            log::error!("virtio-net returned an unknown receive token {token}");
            return Received::Nothing;
        };
        // SAFETY: the same buffer as given to `receive_begin` for this token.
        let received = match unsafe { self.device.receive_complete(token, &mut buffer) } {
            Ok((header, len)) => match (frame.get_mut(..len), buffer.get(header..header + len)) {
                (Some(destination), Some(packet)) => {
                    destination.copy_from_slice(packet);
                    Received::Frame(len)
                }
                _ => Received::Dropped,
            },
            Err(_) => Received::Dropped,
        };
        if let Err(error) = self.lend_rx(buffer) {
            log::error!("virtio-net lost a receive buffer: {error:?}");
        }
        received
    }

    fn can_transmit(&mut self) -> bool {
        self.reap_transmitted();
        !self.tx_free.is_empty()
    }

    fn transmit(&mut self, frame: &[u8]) -> bool {
        self.reap_transmitted();
        let Some(mut buffer) = self.tx_free.pop() else { return false };
        let Ok(header) = self.device.fill_buffer_header(&mut buffer) else { return false };
        let len = header + frame.len();
        let Some(payload) = buffer.get_mut(header..len) else {
            self.tx_free.push(buffer);
            return false;
        };
        payload.copy_from_slice(frame);
        // SAFETY: the buffer is kept in `tx_lent` under its token and not
        // touched until the device hands the token back.
        match unsafe { self.device.transmit_begin(&buffer[..len]) } {
            Ok(token) => match self.tx_lent.get_mut(usize::from(token)) {
                Some(slot) => {
                    *slot = Some((buffer, len));
                    true
                }
                None => false,
            },
            Err(_) => {
                self.tx_free.push(buffer);
                false
            }
        }
    }

    fn interrupt_ids(&self) -> alloc::vec::Vec<u32> {
        alloc::vec![self.intid]
    }

    fn acknowledge_interrupt(&mut self) {
        self.device.ack_interrupt();
        self.reap_transmitted();
    }
}

/// The virtio-rng claimed by `install_entropy`, behind a lock so that a
/// plain function can reach it.
static ENTROPY: spin::Mutex<Option<VirtioRng>> = spin::Mutex::new(None);

/// Keeps `rng` as the source `entropy` reads from.
pub fn install_entropy(rng: VirtioRng) {
    *ENTROPY.lock() = Some(rng);
}

/// Fills `buffer` from the installed virtio-rng; false without one or on failure.
pub fn entropy(buffer: &mut [u8]) -> bool {
    ENTROPY.lock().as_mut().is_some_and(|rng| rng.fill(buffer))
}

/// virtio-rng: the entropy source on QEMU `virt`.
pub struct VirtioRng {
    device: VirtIORng<IdentityHal, MmioTransport<'static>>,
}

// SAFETY: the device's MMIO window and queues belong to this value alone;
// moving it to the `ENTROPY` lock does not share them. One core, and no
// interrupt handler touches it.
unsafe impl Send for VirtioRng {}

impl VirtioRng {
    /// Fills `buffer` with entropy; false if the device failed.
    pub fn fill(&mut self, buffer: &mut [u8]) -> bool {
        let mut filled = 0;
        while filled < buffer.len() {
            match self.device.request_entropy(&mut buffer[filled..]) {
                Ok(0) | Err(_) => return false,
                Ok(n) => filled += n,
            }
        }
        true
    }
}

/// A virtio-blk disk: the first `MAX_AREA_BLOCKS` of it hold the journal.
/// Requests wait for the device (QEMU answers within microseconds), and
/// each write is followed by a flush, so a write that returned is on disk.
pub struct VirtioBlock {
    device: VirtIOBlk<IdentityHal, MmioTransport<'static>>,
    blocks: u32,
}

/// Why a block device is not used.
#[derive(Debug)]
pub enum BlockSetupError {
    /// virtio-drivers could not set it up.
    Device(virtio_drivers::Error),
    /// It is read-only: the journal could not keep a score.
    ReadOnly,
    /// Empty: no block to keep anything in.
    Empty,
}

impl VirtioBlock {
    fn new(transport: MmioTransport<'static>) -> Result<Self, BlockSetupError> {
        let device = VirtIOBlk::new(transport).map_err(BlockSetupError::Device)?;
        if device.readonly() {
            return Err(BlockSetupError::ReadOnly);
        }
        let blocks = device.capacity().min(u64::from(MAX_AREA_BLOCKS)) as u32;
        if blocks == 0 {
            return Err(BlockSetupError::Empty);
        }
        Ok(Self { device, blocks })
    }

    fn check(&self, block: u32) -> Result<usize, StoreError> {
        if block < self.blocks { Ok(block as usize) } else { Err(StoreError) }
    }
}

impl BlockStore for VirtioBlock {
    fn read(&mut self, block: u32, buf: &mut [u8; BLOCK]) -> Result<(), StoreError> {
        let block = self.check(block)?;
        self.device.read_blocks(block, buf).map_err(|_| StoreError)
    }

    fn write(&mut self, block: u32, data: &[u8; BLOCK]) -> Result<(), StoreError> {
        let block = self.check(block)?;
        self.device.write_blocks(block, data).map_err(|_| StoreError)?;
        self.device.flush().map_err(|_| StoreError)
    }

    fn blocks(&self) -> u32 {
        self.blocks
    }

    fn persistent(&self) -> bool {
        true
    }
}
