//! The driver against a fake dongle: a bus that models the registers the
//! driver polls (chip id, firmware ready, BBP/RFCSR indirection, MCU
//! mailbox, eFuse, TX_STA_FIFO), records every write, and can vanish.
//! Fixtures are the sequences Linux's rt2800lib writes for an RT5370F.

use alloc::collections::{BTreeMap, VecDeque};
use alloc::vec::Vec;

use super::bus::{mode, request, BusError, Rt2800Bus};
use super::eeprom::EEPROM_LEN;
use super::regs;
use super::{Error, Rt5370};
use crate::net::device::Received;
use crate::net::radio::Radio;

/// What the fake saw, in order.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Op {
    Write(u16, u32),
    Block(u16, Vec<u8>),
    Bbp(u8, u8),
    Rf(u8, u8),
    Mcu { command: u8, token: u8, arg0: u8, arg1: u8 },
    DeviceMode(u16),
    BulkOut(Vec<u8>),
}

pub(crate) struct FakeDongle {
    chip_id: u32,
    autorun: bool,
    efuse_present: bool,
    efuse: [u8; EEPROM_LEN],
    regs: BTreeMap<u16, u32>,
    bbp: [u8; 256],
    rf: [u8; 64],
    latched: u32,
    mailbox: u32,
    firmware_started: bool,
    firmware_ready: bool,
    tx_status: VecDeque<u32>,
    bulk_in: VecDeque<Result<Vec<u8>, BusError>>,
    ops: Vec<Op>,
    reads: usize,
    /// Transfers left before the dongle vanishes (None: never).
    vanish_in: Option<usize>,
    delay_us: u64,
}

impl FakeDongle {
    pub(crate) fn rt5370() -> Self {
        let mut bbp = [0u8; 256];
        bbp[0] = 0x52; // BBP version
        Self {
            chip_id: 0x5390_0502,
            autorun: false,
            efuse_present: true,
            efuse: super::eeprom::tests_image(),
            regs: BTreeMap::new(),
            bbp,
            rf: [0; 64],
            latched: 0,
            mailbox: 0,
            firmware_started: false,
            firmware_ready: true,
            tx_status: VecDeque::new(),
            bulk_in: VecDeque::new(),
            ops: Vec::new(),
            reads: 0,
            vanish_in: None,
            delay_us: 0,
        }
    }

    /// The same dongle with another MAC address in its eFuse.
    pub(crate) fn with_mac(mut self, mac: [u8; 6]) -> Self {
        self.efuse[4..10].copy_from_slice(&mac);
        self
    }

    fn transfer(&mut self) -> Result<(), BusError> {
        match self.vanish_in {
            Some(0) => Err(BusError::Gone),
            Some(ref mut n) => {
                *n -= 1;
                Ok(())
            }
            None => Ok(()),
        }
    }

    fn read_reg(&mut self, offset: u16) -> u32 {
        self.reads += 1;
        match offset {
            regs::MAC_CSR0 => self.chip_id,
            regs::PBF_SYS_CTRL if self.firmware_started && self.firmware_ready => 0x80,
            regs::PBF_SYS_CTRL => 0,
            regs::BBP_CSR_CFG | regs::RF_CSR_CFG => self.latched,
            regs::H2M_MAILBOX_CSR => self.mailbox & 0x00ff_ffff,
            regs::EFUSE_CTRL if self.efuse_present => 0x8000_0000,
            regs::EFUSE_CTRL => 0,
            regs::EFUSE_DATA0..=regs::EFUSE_DATA3 => {
                let block = 2 * ((self.regs.get(&regs::EFUSE_CTRL).copied().unwrap_or(0) >> 17) & 0x1ff) as usize;
                let at = block + usize::from(regs::EFUSE_DATA3 - offset);
                u32::from_le_bytes(self.efuse[at..at + 4].try_into().unwrap())
            }
            regs::TX_STA_FIFO => self.tx_status.pop_front().unwrap_or(0),
            _ => self.regs.get(&offset).copied().unwrap_or(0),
        }
    }

    fn write_reg(&mut self, offset: u16, value: u32) {
        match offset {
            regs::BBP_CSR_CFG => {
                let reg = ((value >> 8) & 0xff) as usize;
                if value & 0x1_0000 != 0 {
                    self.latched = u32::from(self.bbp[reg]);
                } else {
                    self.bbp[reg] = value as u8;
                    self.latched = 0;
                    self.ops.push(Op::Bbp(reg as u8, value as u8));
                }
            }
            regs::RF_CSR_CFG => {
                let reg = ((value >> 8) & 0x3f) as usize;
                if value & 0x1_0000 != 0 {
                    self.rf[reg] = value as u8;
                    self.latched = 0;
                    self.ops.push(Op::Rf(reg as u8, value as u8));
                } else {
                    self.latched = u32::from(self.rf[reg]);
                }
            }
            regs::H2M_MAILBOX_CSR => {
                self.mailbox = value;
                self.ops.push(Op::Write(offset, value));
            }
            regs::HOST_CMD_CSR => {
                let m = self.mailbox;
                self.ops.push(Op::Mcu { command: value as u8, token: (m >> 16) as u8, arg0: m as u8, arg1: (m >> 8) as u8 });
            }
            _ => {
                self.regs.insert(offset, value);
                self.ops.push(Op::Write(offset, value));
            }
        }
    }

    fn writes_to(&self, offset: u16) -> Vec<u32> {
        self.ops.iter().filter_map(|op| matches!(op, Op::Write(o, _) if *o == offset).then(|| self.value_of(op))).collect()
    }

    fn value_of(&self, op: &Op) -> u32 {
        match op {
            Op::Write(_, v) => *v,
            _ => 0,
        }
    }

    fn bbp_writes(&self) -> Vec<(u8, u8)> {
        self.ops.iter().filter_map(|op| if let Op::Bbp(r, v) = op { Some((*r, *v)) } else { None }).collect()
    }

    fn rf_writes(&self) -> Vec<(u8, u8)> {
        self.ops.iter().filter_map(|op| if let Op::Rf(r, v) = op { Some((*r, *v)) } else { None }).collect()
    }

    fn blocks_at(&self, offset: u16) -> Vec<Vec<u8>> {
        self.ops.iter().filter_map(|op| if let Op::Block(o, d) = op { (*o == offset).then(|| d.clone()) } else { None }).collect()
    }

    fn bulk_outs(&self) -> Vec<Vec<u8>> {
        self.ops.iter().filter_map(|op| if let Op::BulkOut(d) = op { Some(d.clone()) } else { None }).collect()
    }
}

/// The bus handed to the driver: a shared handle on the fake, so the test keeps looking at it.
#[derive(Clone)]
pub(crate) struct FakeBus(alloc::rc::Rc<core::cell::RefCell<FakeDongle>>);

impl FakeBus {
    pub(crate) fn new(dongle: FakeDongle) -> Self {
        Self(alloc::rc::Rc::new(core::cell::RefCell::new(dongle)))
    }
    fn dongle(&self) -> core::cell::RefMut<'_, FakeDongle> {
        self.0.borrow_mut()
    }
}

impl Rt2800Bus for FakeBus {
    fn vendor_out(&mut self, req: u8, value: u16, index: u16, data: &[u8]) -> Result<(), BusError> {
        let mut d = self.dongle();
        d.transfer()?;
        match req {
            request::MULTI_WRITE if data.len() == 4 => d.write_reg(index, u32::from_le_bytes(data.try_into().unwrap())),
            request::MULTI_WRITE => {
                // Merge the 64-byte chunks of one block into one op.
                if let Some(Op::Block(start, bytes)) = d.ops.last_mut() {
                    if usize::from(*start) + bytes.len() == usize::from(index) && bytes.len() % 64 == 0 {
                        bytes.extend_from_slice(data);
                        return Ok(());
                    }
                }
                d.ops.push(Op::Block(index, data.to_vec()));
            }
            request::DEVICE_MODE => {
                if value == mode::FIRMWARE {
                    d.firmware_started = true;
                }
                d.ops.push(Op::DeviceMode(value));
            }
            _ => return Err(BusError::Stall),
        }
        Ok(())
    }

    fn vendor_in(&mut self, req: u8, value: u16, index: u16, data: &mut [u8]) -> Result<(), BusError> {
        let mut d = self.dongle();
        d.transfer()?;
        match req {
            request::MULTI_READ => data.copy_from_slice(&d.read_reg(index).to_le_bytes()[..data.len()]),
            request::DEVICE_MODE if value == mode::AUTORUN => {
                data.copy_from_slice(&(if d.autorun { 2u32 } else { 0 }).to_le_bytes())
            }
            request::EEPROM_READ => {
                let at = usize::from(index);
                let image = d.efuse;
                data.copy_from_slice(image.get(at..at + data.len()).ok_or(BusError::Stall)?);
            }
            _ => return Err(BusError::Stall),
        }
        Ok(())
    }

    fn bulk_out(&mut self, data: &[u8]) -> Result<(), BusError> {
        let mut d = self.dongle();
        d.transfer()?;
        d.ops.push(Op::BulkOut(data.to_vec()));
        Ok(())
    }

    fn poll_bulk_in(&mut self, buf: &mut [u8]) -> Option<Result<usize, BusError>> {
        let mut d = self.dongle();
        if let Err(e) = d.transfer() {
            return Some(Err(e));
        }
        Some(d.bulk_in.pop_front()?.map(|frame| {
            let len = frame.len().min(buf.len());
            buf[..len].copy_from_slice(&frame[..len]);
            len
        }))
    }

    fn delay_us(&mut self, us: u32) {
        self.dongle().delay_us += u64::from(us);
    }
}

pub(crate) fn firmware() -> Vec<u8> {
    super::firmware::tests::fake_file()
}

fn up() -> (Rt5370<FakeBus>, FakeBus) {
    let bus = FakeBus::new(FakeDongle::rt5370());
    let radio = Rt5370::new(bus.clone(), &firmware()).expect("bring-up");
    (radio, bus)
}

/// BBP writes of rt2800_init_bbp_53xx for an RT5390F with one chain and no
/// diversity, then the EEPROM's override (0x6a = 0x02), as Linux orders them.
#[rustfmt::skip]
const BBP_INIT_RT5370F: &[(u8, u8)] = &[
    (4, 0x40), (31, 0x08), (65, 0x2c), (66, 0x38), (68, 0x0b), (69, 0x12), (73, 0x13), (75, 0x46), (76, 0x28),
    (77, 0x59), (70, 0x0a), (79, 0x13), (80, 0x05), (81, 0x33), (82, 0x62), (83, 0x7a), (84, 0x9a), (86, 0x38),
    (91, 0x04), (92, 0x02), (103, 0xc0), (104, 0x92), (105, 0x3c), (106, 0x03), (128, 0x12), (138, 0x20),
    (152, 0x80), (142, 0x01), (143, 0x39), (106, 0x02),
];

/// RFCSR writes of rt2800_init_rfcsr_5390 (USB, revision F), including the
/// calibration pulse on RFCSR2 before and normal-mode setup after.
#[rustfmt::skip]
const RF_INIT_RT5370F: &[(u8, u8)] = &[
    (2, 0x80), (2, 0x00),
    (1, 0x0f), (2, 0x80), (3, 0x88), (5, 0x10), (6, 0xe0), (7, 0x00), (10, 0x53), (11, 0x4a), (12, 0x46),
    (13, 0x9f), (14, 0x00), (15, 0x00), (16, 0x00), (18, 0x03), (19, 0x00), (20, 0x00), (21, 0x00), (22, 0x20),
    (23, 0x00), (24, 0x00), (25, 0x80), (26, 0x00), (27, 0x09), (28, 0x00), (29, 0x10), (30, 0x10), (31, 0x80),
    (32, 0x80), (33, 0x00), (34, 0x07), (35, 0x12), (36, 0x00), (37, 0x08), (38, 0x85), (39, 0x1b), (40, 0x0b),
    (41, 0xbb), (42, 0xd2), (43, 0x9a), (44, 0x0e), (45, 0xa2), (46, 0x73), (47, 0x00), (48, 0x10), (49, 0x94),
    (52, 0x38), (53, 0x00), (54, 0x78), (55, 0x44), (56, 0x42), (57, 0x80), (58, 0x7f), (59, 0x8f), (60, 0x45),
    (61, 0xd1), (62, 0x00), (63, 0x00),
    (38, 0x85), (39, 0x1b), (30, 0x10),
];

#[test]
fn bring_up_loads_the_second_firmware_image_and_boots_the_mcu() {
    let (_radio, bus) = up();
    let d = bus.dongle();
    assert_eq!(d.blocks_at(regs::FIRMWARE_IMAGE_BASE), [firmware()[4096..].to_vec()]);
    let boot = Op::Mcu { command: 0x72, token: 0, arg0: 0, arg1: 0 };
    let at = |op: &Op| d.ops.iter().position(|o| o == op).unwrap();
    assert!(at(&Op::DeviceMode(mode::FIRMWARE)) > at(&Op::Block(regs::FIRMWARE_IMAGE_BASE, firmware()[4096..].to_vec())));
    assert!(at(&boot) > at(&Op::DeviceMode(mode::FIRMWARE)));
    assert!(d.ops.contains(&Op::Mcu { command: 0x31, token: 0xff, arg0: 0, arg1: 2 }), "wake-up");
    assert!(d.ops.contains(&Op::DeviceMode(mode::RESET)));
}

#[test]
fn bring_up_writes_linux_bbp_and_rf_sequences() {
    let (_radio, bus) = up();
    let d = bus.dongle();
    let bbp = d.bbp_writes();
    assert_eq!(&bbp[..BBP_INIT_RT5370F.len()], BBP_INIT_RT5370F);
    // normal_mode_setup_5xxx rewrites BBP 138 and BBP 4 after the RF table.
    assert_eq!(&bbp[BBP_INIT_RT5370F.len()..], &[(138, 0x20), (4, 0x40)]);
    assert_eq!(d.rf_writes(), RF_INIT_RT5370F);
}

#[test]
fn bring_up_sets_mac_registers_and_access_point_mode() {
    let (radio, bus) = up();
    let d = bus.dongle();
    assert_eq!(radio.mac_address(), [0x00, 0x0f, 0x55, 0x6b, 0xc8, 0x41]);
    assert!(radio.capabilities().hardware_retry);
    assert_eq!(d.writes_to(regs::TX_RTY_CFG), [0x47d0_0407]);
    assert_eq!(d.writes_to(regs::RX_FILTER_CFG), [0x0001_9f97]);
    assert_eq!(d.writes_to(regs::CCK_PROT_CFG), [0x0574_0003]);
    assert_eq!(d.writes_to(regs::MAX_LEN_CFG), [0x0000_1f00]);
    assert_eq!(d.writes_to(regs::MAC_ADDR_DW0), [0x6b55_0f00]);
    assert_eq!(d.writes_to(regs::MAC_ADDR_DW1), [0x00ff_41c8]);
    assert_eq!(d.writes_to(regs::MAC_BSSID_DW1), [0x0003_41c8]);
    assert_eq!(d.writes_to(regs::BCN_OFFSET0), [0xe0]);
    assert_eq!(d.writes_to(regs::TBTT_SYNC_CFG), [0x0001_2000]);
    // Interval 1600/16 TU, then AP sync (TSF_SYNC 3); no beacons before a template.
    assert_eq!(d.writes_to(regs::BCN_TIME_CFG), [1600, 1600 | 3 << 17]);
    // TX on, then TX and RX on.
    assert_eq!(d.writes_to(regs::MAC_SYS_CTRL), [0x3, 0, 0, 0x4, 0xc]);
    assert_eq!(d.blocks_at(regs::MAC_WCID_BASE), [alloc::vec![0xff; 2048]]);
    assert_eq!(d.blocks_at(regs::HW_BEACON_BASE0), [alloc::vec![0; 16]]);
}

#[test]
fn eeprom_comes_from_efuse_blocks() {
    let mut dongle = FakeDongle::rt5370();
    dongle.efuse[4..10].copy_from_slice(&[0x02, 0x11, 0x22, 0x33, 0x44, 0x55]);
    let bus = FakeBus::new(dongle);
    let radio = Rt5370::new(bus.clone(), &firmware()).unwrap();
    assert_eq!(radio.mac_address(), [0x02, 0x11, 0x22, 0x33, 0x44, 0x55]);
    // 32 blocks of 16 bytes, each kicked through EFUSE_CTRL.
    assert_eq!(bus.dongle().writes_to(regs::EFUSE_CTRL).len(), 32);
}

#[test]
fn autorun_dongle_keeps_its_own_firmware() {
    let mut dongle = FakeDongle::rt5370();
    dongle.autorun = true;
    let bus = FakeBus::new(dongle);
    Rt5370::new(bus.clone(), &firmware()).unwrap();
    assert!(bus.dongle().blocks_at(regs::FIRMWARE_IMAGE_BASE).is_empty());
    assert!(bus.dongle().ops.contains(&Op::DeviceMode(mode::FIRMWARE)));
}

#[test]
fn other_chips_and_bad_firmware_are_refused() {
    let mut dongle = FakeDongle::rt5370();
    dongle.chip_id = 0x3070_0201;
    assert_eq!(Rt5370::new(FakeBus::new(dongle), &firmware()).err(), Some(Error::UnknownChip(0x3070_0201)));
    let mut bad = firmware();
    bad[5000] ^= 0xff;
    let bus = FakeBus::new(FakeDongle::rt5370());
    assert!(matches!(Rt5370::new(bus.clone(), &bad), Err(Error::Firmware(_))));
    assert!(bus.dongle().ops.is_empty(), "nothing is written with a bad file");
}

#[test]
fn firmware_that_never_starts_times_out_within_its_bound() {
    let mut dongle = FakeDongle::rt5370();
    dongle.firmware_ready = false;
    let bus = FakeBus::new(dongle);
    let result = Rt5370::new(bus.clone(), &firmware());
    assert_eq!(result.err(), Some(Error::Timeout("firmware (PBF_SYS_CTRL_READY)")));
    assert!(bus.dongle().delay_us <= 200_000, "waited {} µs", bus.dongle().delay_us);
}

#[test]
fn dongle_vanishing_during_bring_up_is_a_clean_error() {
    for after in [0, 5, 40, 300] {
        let mut dongle = FakeDongle::rt5370();
        dongle.vanish_in = Some(after);
        assert_eq!(Rt5370::new(FakeBus::new(dongle), &firmware()).err(), Some(Error::Bus(BusError::Gone)), "after {after}");
    }
}

#[test]
fn channel_6_programs_pll_power_and_calibration() {
    let (mut radio, bus) = up();
    bus.dongle().ops.clear();
    radio.set_frequency(2437);
    let d = bus.dongle();
    // N 243, K 7, R 2; power 0x1c; chain 0 on; RT5390F channel 6 R55/R59;
    // H20M off; VCO calibration.
    assert_eq!(
        d.rf_writes(),
        [(8, 243), (9, 7), (11, 0x4a), (49, 0x9c), (1, 0x0f), (55, 0x13), (59, 0x07), (30, 0x10), (3, 0x88)]
    );
    assert!(d.ops.contains(&Op::Mcu { command: 0x74, token: 0xff, arg0: 0x24, arg1: 0 }), "crystal trim");
    // AGC 0x37 - LNA 4; BBP 86; 20 MHz; VGC 0x1c + 2 × 4.
    assert_eq!(d.bbp_writes(), [(62, 0x33), (63, 0x33), (64, 0x33), (86, 0), (4, 0x40), (3, 0), (66, 0x24)]);
    assert_eq!(d.writes_to(regs::TX_BAND_CFG), [0x4]);
    assert_eq!(d.writes_to(regs::TX_PIN_CFG), [0x0005_0302]);
    assert_eq!(d.writes_to(regs::TX_PWR_CFG_0), [0xaaaa_6666]);
}

#[test]
fn channels_outside_1_to_13_are_ignored() {
    let (mut radio, bus) = up();
    bus.dongle().ops.clear();
    radio.set_frequency(2484);
    radio.set_frequency(5180);
    assert!(bus.dongle().ops.is_empty());
}

/// A beacon as `wifi::wire::mgmt::Bss::beacon` builds it: header, timestamp,
/// interval, capabilities, SSID "2048", TIM.
fn beacon(seq: u16, timestamp: u64, tim_bitmap: u8) -> Vec<u8> {
    let mut b = alloc::vec![0x80, 0x00, 0, 0, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff];
    b.extend_from_slice(&[0x00, 0x0f, 0x55, 0x6b, 0xc8, 0x41, 0x00, 0x0f, 0x55, 0x6b, 0xc8, 0x41]);
    b.extend_from_slice(&(seq << 4).to_le_bytes());
    b.extend_from_slice(&timestamp.to_le_bytes());
    b.extend_from_slice(&[100, 0, 0x21, 0x04, 0, 4, b'2', b'0', b'4', b'8', 5, 4, 0, 1, 0, tim_bitmap]);
    b
}

#[test]
fn beacons_go_to_the_template_not_the_bulk_pipe() {
    let (mut radio, bus) = up();
    bus.dongle().ops.clear();
    assert!(radio.transmit(&beacon(1, 1000, 0), None, 0));
    {
        let d = bus.dongle();
        assert!(d.bulk_outs().is_empty());
        let slots = d.blocks_at(regs::HW_BEACON_BASE0);
        assert_eq!(slots.len(), 1);
        let frame = beacon(1, 1000, 0);
        assert_eq!(slots[0].len(), (16 + frame.len()).next_multiple_of(4));
        // TXWI: timestamp by hardware, CCK 1M; no ACK, hardware sequence, WCID 0xff.
        assert_eq!(slots[0][..8], [0x08, 0, 0, 0, 0x02, 0xff, frame.len() as u8, 0]);
        assert_eq!(&slots[0][16..16 + frame.len()], &frame[..]);
        // Generation off while writing, then TSF, TBTT and generation on.
        let base = 1600 | 3 << 17;
        assert_eq!(d.writes_to(regs::BCN_TIME_CFG), [base, base | 0x1_0000 | 0x8_0000 | 0x10_0000]);
    }
    // The next interval's beacon differs only in sequence and timestamp: nothing written.
    bus.dongle().ops.clear();
    assert!(radio.transmit(&beacon(2, 103_400, 0), None, 102_400));
    assert!(bus.dongle().ops.is_empty());
    // A station dozes with traffic: the TIM changed, the template is rewritten.
    assert!(radio.transmit(&beacon(3, 205_800, 2), None, 204_800));
    assert_eq!(bus.dongle().blocks_at(regs::HW_BEACON_BASE0).len(), 1);
}

/// An authentication response to a phone, as the access point sends it.
fn unicast_frame() -> Vec<u8> {
    let mut f = alloc::vec![0xb0, 0x00, 0, 0, 0x02, 0, 0, 0, 0x01, 0];
    f.extend_from_slice(&[0x00, 0x0f, 0x55, 0x6b, 0xc8, 0x41, 0x00, 0x0f, 0x55, 0x6b, 0xc8, 0x41, 0x10, 0x00]);
    f.extend_from_slice(&[0, 0, 2, 0, 0, 0]);
    f
}

fn status_word(packet_id: u8, acked: bool) -> u32 {
    0x0000_ff81 | u32::from(packet_id) << 1 | if acked { 0x20 } else { 0 }
}

#[test]
fn tx_status_fifo_reports_each_frame_by_its_token() {
    let (mut radio, bus) = up();
    assert!(radio.transmit(&unicast_frame(), Some(41), 1_000));
    assert!(radio.transmit(&unicast_frame(), Some(42), 1_000));
    {
        let d = bus.dongle();
        let outs = d.bulk_outs();
        assert_eq!(outs.len(), 2);
        assert_eq!(outs[0][11] >> 4, 1, "packet id 1");
        assert_eq!(outs[1][11] >> 4, 2, "packet id 2");
        assert_eq!(outs[0][8] & 1, 1, "ACK wanted");
    }
    assert_eq!(radio.tx_status(1_500), None, "no status yet");
    bus.dongle().tx_status.extend([status_word(2, false), status_word(1, true)]);
    assert_eq!(radio.tx_status(3_000), Some((42, false)));
    assert_eq!(radio.tx_status(3_000), Some((41, true)));
    assert_eq!(radio.tx_status(3_000), None);
}

#[test]
fn missing_status_is_reported_unacknowledged_at_the_deadline() {
    let (mut radio, _bus) = up();
    assert!(radio.transmit(&unicast_frame(), Some(7), 10_000));
    let deadline = radio.deadline().unwrap();
    assert!(deadline <= 12_000, "polls the FIFO and the pipe soon: {deadline}");
    assert_eq!(radio.tx_status(100_000), None);
    assert_eq!(radio.tx_status(210_000), Some((7, false)));
}

#[test]
fn fifteen_frames_in_flight_fill_the_packet_ids() {
    let (mut radio, _bus) = up();
    for token in 0..15 {
        assert!(radio.transmit(&unicast_frame(), Some(token), 0));
    }
    assert!(!radio.transmit(&unicast_frame(), Some(15), 0), "refused, not mismatched");
    assert!(radio.transmit(&beacon(1, 0, 0), None, 0), "beacons need no packet id");
}

/// The bulk IN transfer the chip makes of `frame` (a 24-byte header: no L2 pad).
fn rx_transfer(frame: &[u8]) -> Vec<u8> {
    let mut transfer = Vec::new();
    transfer.extend_from_slice(&((16 + frame.len()).next_multiple_of(4) as u32).to_le_bytes());
    transfer.extend_from_slice(&(0xffu32 | (frame.len() as u32) << 16).to_le_bytes());
    transfer.extend_from_slice(&[0; 12]);
    transfer.extend_from_slice(frame);
    transfer.resize(4 + (16 + frame.len()).next_multiple_of(4), 0);
    // RXD: MY_BSS, L2PAD.
    transfer.extend_from_slice(&0x4080u32.to_le_bytes());
    transfer
}

#[test]
fn received_frames_lose_their_descriptors_and_pad() {
    let (mut radio, bus) = up();
    let frame = unicast_frame();
    bus.dongle().bulk_in.push_back(Ok(rx_transfer(&frame)));
    let mut out = [0u8; 2304];
    assert!(matches!(radio.receive(&mut out), Received::Frame(n) if out[..n] == frame[..]));
    assert!(matches!(radio.receive(&mut out), Received::Nothing));
}

#[test]
fn bad_and_short_bulk_in_transfers_are_dropped() {
    let (mut radio, bus) = up();
    for junk in [alloc::vec![], alloc::vec![0xff; 3], alloc::vec![0xff; 64], alloc::vec![0x10, 0, 0, 0, 0, 0, 0xff, 0x0f]] {
        bus.dongle().bulk_in.push_back(Ok(junk));
    }
    bus.dongle().bulk_in.push_back(Err(BusError::Stall));
    let mut out = [0u8; 2304];
    for _ in 0..5 {
        assert!(matches!(radio.receive(&mut out), Received::Dropped));
    }
    assert!(!radio.is_gone());
    assert!(matches!(radio.receive(&mut out), Received::Nothing));
}

#[test]
fn dongle_vanishing_mid_transfer_stops_the_radio_cleanly() {
    let (mut radio, bus) = up();
    assert!(radio.transmit(&unicast_frame(), Some(1), 0));
    bus.dongle().vanish_in = Some(0);
    assert!(!radio.transmit(&unicast_frame(), Some(2), 0));
    assert!(radio.is_gone());
    let mut out = [0u8; 2304];
    assert!(matches!(radio.receive(&mut out), Received::Nothing));
    assert_eq!(radio.tx_status(1), Some((1, false)), "what was in flight is reported lost");
    assert_eq!(radio.tx_status(2), None);
    assert_eq!(radio.deadline(), None, "nothing left to wake up for");
    radio.set_frequency(2412);
    assert!(!radio.transmit(&beacon(1, 0, 0), None, 3));
}

#[test]
fn dongle_vanishing_during_bulk_in_poll_is_noticed() {
    let (mut radio, bus) = up();
    bus.dongle().bulk_in.push_back(Err(BusError::Gone));
    let mut out = [0u8; 2304];
    assert!(matches!(radio.receive(&mut out), Received::Nothing));
    assert!(radio.is_gone());
}

#[test]
fn eeprom_without_efuse_comes_from_the_vendor_request() {
    let mut dongle = FakeDongle::rt5370();
    dongle.efuse_present = false;
    dongle.efuse[4..10].copy_from_slice(&[0x02, 0xaa, 0xbb, 0xcc, 0xdd, 0xee]);
    let bus = FakeBus::new(dongle);
    let radio = Rt5370::new(bus.clone(), &firmware()).unwrap();
    assert_eq!(radio.mac_address(), [0x02, 0xaa, 0xbb, 0xcc, 0xdd, 0xee]);
    assert!(bus.dongle().writes_to(regs::EFUSE_CTRL).is_empty());
}

#[test]
fn rt5372_brings_up_two_chains_with_its_own_tables() {
    let mut dongle = FakeDongle::rt5370();
    dongle.chip_id = 0x5392_0222;
    dongle.efuse[0..2].copy_from_slice(&0x5372u16.to_le_bytes());
    dongle.efuse[2 * 0x1a..2 * 0x1a + 2].copy_from_slice(&0x0022u16.to_le_bytes());
    let bus = FakeBus::new(dongle);
    let mut radio = Rt5370::new(bus.clone(), &firmware()).unwrap();
    {
        let d = bus.dongle();
        let rf = d.rf_writes();
        assert_eq!(rf[..4], [(2, 0x80), (2, 0x00), (1, 0x17), (3, 0x88)]);
        assert!(rf.contains(&(50, 0x94)) && rf.contains(&(61, 0x91)));
        let bbp = d.bbp_writes();
        assert!(bbp.contains(&(88, 0x90)) && bbp.contains(&(106, 0x12)) && bbp.contains(&(135, 0xf6)));
        assert!(bbp.contains(&(138, 0x00)), "both DACs and ADCs stay on");
    }
    bus.dongle().ops.clear();
    radio.set_frequency(2412);
    let d = bus.dongle();
    let rf = d.rf_writes();
    // Chain 1's power (RFCSR50) and RX1/TX1 on (RFCSR1); the RT5392's RFCSR59 table.
    assert_eq!(rf[..6], [(8, 241), (9, 2), (11, 0x4a), (49, 0x9d), (50, 0x9c), (1, 0x3f)]);
    assert!(rf.contains(&(59, 0x8f)) && !rf.iter().any(|&(reg, _)| reg == 55));
    assert_eq!(d.writes_to(regs::TX_PIN_CFG), [0x0005_0f0a]);
}

/// A NIC with nothing on the wire.
struct QuietNic;

impl crate::net::device::NetDevice for QuietNic {
    fn mac_address(&self) -> [u8; 6] {
        [0x52, 0x54, 0x00, 0x12, 0x34, 0x56]
    }
    fn receive(&mut self, _frame: &mut [u8]) -> Received {
        Received::Nothing
    }
    fn can_transmit(&mut self) -> bool {
        true
    }
    fn transmit(&mut self, _frame: &[u8]) -> bool {
        true
    }
    fn interrupt_ids(&self) -> Vec<u32> {
        Vec::new()
    }
    fn acknowledge_interrupt(&mut self) {}
}

/// The network loop's clock in the access point test (the bridge takes a `fn`).
static CLOCK_US: core::sync::atomic::AtomicU64 = core::sync::atomic::AtomicU64::new(5_000_000);

fn now() -> u64 {
    CLOCK_US.load(core::sync::atomic::Ordering::Relaxed)
}

fn advance(us: u64) -> u64 {
    CLOCK_US.fetch_add(us, core::sync::atomic::Ordering::Relaxed) + us
}

/// The phone's frames to join an open "2048": authentication, association request.
fn join_frames(bssid: [u8; 6]) -> [Vec<u8>; 2] {
    let phone = [0x02, 0x00, 0x00, 0x00, 0x01, 0x00];
    let header = |fc: u8, seq: u16| {
        let mut f = alloc::vec![fc, 0x00, 0x3a, 0x01];
        for address in [bssid, phone, bssid] {
            f.extend_from_slice(&address);
        }
        f.extend_from_slice(&(seq << 4).to_le_bytes());
        f
    };
    let mut auth = header(0xb0, 1);
    auth.extend_from_slice(&[0, 0, 1, 0, 0, 0]);
    let mut assoc = header(0x00, 2);
    assoc.extend_from_slice(&[0x21, 0x04, 0x05, 0x00, 0x00, 0x04]);
    assoc.extend_from_slice(b"2048");
    assoc.extend_from_slice(&[0x01, 0x08, 0x02, 0x04, 0x0b, 0x16, 0x0c, 0x12, 0x18, 0x24]);
    [auth, assoc]
}

#[test]
fn the_access_point_runs_unchanged_on_this_radio() {
    use crate::net::bridge::{tests::FixedRng, Bridge, BridgeCounters};
    use crate::net::device::NetDevice;

    let (radio, bus) = up();
    let bssid = radio.mac_address();
    let config = wifi::Config { hardware_retry: radio.capabilities().hardware_retry, ..wifi::Config::default() };
    let ap = core::cell::RefCell::new(wifi::AccessPoint::new(config, bssid, &mut FixedRng).unwrap());
    let counters = BridgeCounters::default();
    let mut bridge = Bridge::new(QuietNic, radio, &ap, &counters, now);
    assert!(bus.dongle().rf_writes().contains(&(8, 243)), "tuned to the access point's channel 6");
    bridge.service(now());
    assert_eq!(bus.dongle().blocks_at(regs::HW_BEACON_BASE0).len(), 2, "the first beacon became the template");
    assert!(bus.dongle().bulk_outs().is_empty(), "and did not go out on the bulk pipe");
    let mut stack = [0u8; 1518];
    for frame in join_frames(bssid) {
        bus.dongle().ops.clear();
        bus.dongle().bulk_in.push_back(Ok(rx_transfer(&frame)));
        assert!(matches!(bridge.receive(&mut stack), Received::Nothing));
        bridge.service(now());
        let answer = bus.dongle().bulk_outs().pop().expect("the access point answered");
        let packet_id = answer[11] >> 4;
        assert_ne!(packet_id, 0, "the answer waits for its ACK");
        bus.dongle().tx_status.push_back(status_word(packet_id, true));
        bridge.service(advance(2_000));
    }
    assert!(ap.borrow().is_station(&[0x02, 0x00, 0x00, 0x00, 0x01, 0x00]), "the phone joined");
}

#[test]
fn an_idle_radio_asks_to_be_polled_for_received_frames() {
    let (mut radio, _bus) = up();
    assert_eq!(radio.tx_status(40_000), None);
    assert_eq!(radio.deadline(), Some(42_000), "the bulk IN pipe is polled every 2 ms");
}

#[test]
fn a_beacon_too_long_for_its_slot_is_refused() {
    let (mut radio, bus) = up();
    bus.dongle().ops.clear();
    let mut huge = beacon(1, 0, 0);
    huge.resize(600, 0xdd);
    assert!(!radio.transmit(&huge, None, 0));
    assert!(bus.dongle().ops.is_empty(), "the slot and BCN_TIME_CFG are left alone");
    assert!(!radio.is_gone());
}

#[test]
fn ralink_and_branded_rt53xx_ids_are_driven() {
    assert!(super::drives(0x148f, 0x5370));
    assert!(super::drives(0x148f, 0x5372));
    assert!(super::drives(0x2001, 0x3c19), "D-Link DWA-125 rev D");
    assert!(!super::drives(0x148f, 0x3070), "an RT3070 is another chip");
    assert!(!super::drives(0x0bda, 0x8179));
}
