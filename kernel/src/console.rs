//! The serial console and the `log` backend, with boot-relative timestamps.
//!
//! Log lines go to a RAM backlog that the idle loop drains into the UART
//! (`drain`) as its FIFO takes them: at 115200 baud a boot line costs about
//! 6 ms of waiting, and under QEMU every byte is a host system call, so
//! writing synchronously would put the whole boot log on the path to
//! "listening". Timestamps are taken when a line is logged, not when it
//! leaves. A full backlog drains synchronously (nothing is lost). A crash
//! switches the console to synchronous output (`go_synchronous`), after
//! flushing the backlog, so that the report gets out even when the rest of
//! the kernel is broken. The board names the UART (a PL011 on QEMU `virt`,
//! a 16550-style one on Allwinner SoCs); until then output is dropped.

use core::fmt::{self, Write};
use core::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use spin::Mutex;

use crate::drivers::{ns16550, pl011};
use crate::time;

static UART_BASE: AtomicUsize = AtomicUsize::new(0);
/// 0: PL011; otherwise 16550 with register shift `UART_KIND - 1`.
static UART_KIND: AtomicUsize = AtomicUsize::new(0);

/// Which UART the console writes to.
#[derive(Clone, Copy, Debug)]
pub enum Uart {
    /// ARM PL011 at this address.
    Pl011(usize),
    /// 16550-style UART at `base`, registers `1 << reg_shift` bytes apart.
    Ns16550 {
        /// Register window.
        base: usize,
        /// log2 of the register stride (2 on Allwinner SoCs).
        reg_shift: u32,
    },
}

/// Points the console at the board's UART.
pub fn init(uart: Uart) {
    let (base, kind) = match uart {
        Uart::Pl011(base) => (base, 0),
        Uart::Ns16550 { base, reg_shift } => (base, reg_shift as usize + 1),
    };
    UART_KIND.store(kind, Ordering::Relaxed);
    UART_BASE.store(base, Ordering::Relaxed);
}

fn write_bytes(base: usize, bytes: &[u8]) {
    match UART_KIND.load(Ordering::Relaxed) {
        0 => pl011::write_bytes(base, bytes),
        kind => ns16550::write_bytes(base, (kind - 1) as u32, bytes),
    }
}

fn try_write_byte(base: usize, byte: u8) -> bool {
    match UART_KIND.load(Ordering::Relaxed) {
        0 => pl011::try_write_byte(base, byte),
        kind => ns16550::try_write_byte(base, (kind - 1) as u32, byte),
    }
}

/// Bytes the backlog holds: the whole boot log and then some.
const BACKLOG_BYTES: usize = 8 * 1024;

/// Console output not yet taken by the UART, oldest first (a ring).
struct Backlog {
    bytes: [u8; BACKLOG_BYTES],
    start: usize,
    len: usize,
}

impl Backlog {
    fn push(&mut self, byte: u8) {
        self.bytes[(self.start + self.len) % BACKLOG_BYTES] = byte;
        self.len += 1;
    }

    /// Hands bytes to the UART while it takes them, at most `max`.
    fn drain(&mut self, base: usize, max: usize) {
        let mut sent = 0;
        while self.len > 0 && sent < max && try_write_byte(base, self.bytes[self.start]) {
            self.start = (self.start + 1) % BACKLOG_BYTES;
            self.len -= 1;
            sent += 1;
        }
    }

    /// Waits until the UART has taken everything.
    fn flush(&mut self, base: usize) {
        while self.len > 0 {
            let (first, second) = (self.start, (self.start + self.len).min(BACKLOG_BYTES));
            write_bytes(base, &self.bytes[first..second]);
            self.len -= second - first;
            self.start = second % BACKLOG_BYTES;
        }
    }
}

static BACKLOG: Mutex<Backlog> = Mutex::new(Backlog { bytes: [0; BACKLOG_BYTES], start: 0, len: 0 });
/// Set by a crash: every write goes straight to the UART.
static SYNCHRONOUS: AtomicBool = AtomicBool::new(false);

/// Feeds the UART from the backlog, at most `max` bytes and never waiting;
/// true if bytes are still waiting (the idle loop then wakes up soon).
pub fn drain(max: usize) -> bool {
    let base = UART_BASE.load(Ordering::Relaxed);
    let Some(mut backlog) = BACKLOG.try_lock() else { return true };
    if base != 0 {
        backlog.drain(base, max);
    }
    backlog.len > 0
}

/// Flushes the backlog and makes all later output synchronous: for crash
/// reports. A backlog caught mid-update (a crash inside the console) is
/// abandoned rather than waited for.
pub fn go_synchronous() {
    SYNCHRONOUS.store(true, Ordering::Relaxed);
    let base = UART_BASE.load(Ordering::Relaxed);
    if let Some(mut backlog) = BACKLOG.try_lock() {
        if base != 0 {
            backlog.flush(base);
        }
    }
}

/// The console as a `fmt::Write` sink.
pub struct Console;

impl Write for Console {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        let base = UART_BASE.load(Ordering::Relaxed);
        if base == 0 {
            return Ok(());
        }
        if SYNCHRONOUS.load(Ordering::Relaxed) {
            for line in s.split_inclusive('\n') {
                match line.strip_suffix('\n') {
                    Some(text) => {
                        write_bytes(base, text.as_bytes());
                        write_bytes(base, b"\r\n");
                    }
                    None => write_bytes(base, line.as_bytes()),
                }
            }
            return Ok(());
        }
        let mut backlog = BACKLOG.lock();
        for &byte in s.as_bytes() {
            let needed = if byte == b'\n' { 2 } else { 1 };
            if backlog.len + needed > BACKLOG_BYTES {
                backlog.flush(base);
            }
            if byte == b'\n' {
                backlog.push(b'\r');
            }
            backlog.push(byte);
        }
        Ok(())
    }
}

struct Logger;

impl log::Log for Logger {
    fn enabled(&self, metadata: &log::Metadata) -> bool {
        // Borrowed crates narrate their internals at info; keep only their warnings.
        let ours = metadata.target().starts_with("kernel");
        metadata.level() <= log::max_level() && (ours || metadata.level() <= log::Level::Warn)
    }

    fn log(&self, record: &log::Record) {
        if self.enabled(record.metadata()) {
            let micros = time::micros_since_power_on();
            let _ = writeln!(
                Console,
                "[{:5}.{:06}] {:5} {}",
                micros / 1_000_000,
                micros % 1_000_000,
                record.level(),
                record.args()
            );
        }
    }

    fn flush(&self) {}
}

static LOGGER: Logger = Logger;

/// Installs the console as the `log` backend at `level`.
pub fn init_logging(level: log::LevelFilter) {
    let _ = log::set_logger(&LOGGER);
    log::set_max_level(level);
}
