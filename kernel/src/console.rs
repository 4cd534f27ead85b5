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
//! the kernel is broken. The chip names the UART (a PL011 on QEMU `virt`,
//! a 16550-style one on Allwinner SoCs); until then output is dropped.

#![deny(unsafe_code)]

use core::fmt::{self, Write};
use core::sync::atomic::{AtomicBool, Ordering};

use spin::{Mutex, Once};

use crate::devices::Uart;
use crate::time;

static UART: Once<&'static dyn Uart> = Once::new();

/// Points the console at the board's UART.
pub fn init(uart: &'static dyn Uart) {
    UART.call_once(|| uart);
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
    fn drain(&mut self, uart: &dyn Uart, max: usize) {
        let mut sent = 0;
        while self.len > 0 && sent < max && uart.try_write_byte(self.bytes[self.start]) {
            self.start = (self.start + 1) % BACKLOG_BYTES;
            self.len -= 1;
            sent += 1;
        }
    }

    /// Waits until the UART has taken everything.
    fn flush(&mut self, uart: &dyn Uart) {
        while self.len > 0 {
            let (first, second) = (self.start, (self.start + self.len).min(BACKLOG_BYTES));
            uart.write_bytes(&self.bytes[first..second]);
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
    let Some(mut backlog) = BACKLOG.try_lock() else { return true };
    if let Some(uart) = UART.get() {
        backlog.drain(*uart, max);
    }
    backlog.len > 0
}

/// Flushes the backlog and makes all later output synchronous: for crash
/// reports. A backlog caught mid-update (a crash inside the console) is
/// abandoned rather than waited for.
pub fn go_synchronous() {
    SYNCHRONOUS.store(true, Ordering::Relaxed);
    if let (Some(mut backlog), Some(uart)) = (BACKLOG.try_lock(), UART.get()) {
        backlog.flush(*uart);
    }
}

/// The console as a `fmt::Write` sink.
pub struct Console;

impl Write for Console {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        let Some(&uart) = UART.get() else { return Ok(()) };
        if SYNCHRONOUS.load(Ordering::Relaxed) {
            for line in s.split_inclusive('\n') {
                match line.strip_suffix('\n') {
                    Some(text) => {
                        uart.write_bytes(text.as_bytes());
                        uart.write_bytes(b"\r\n");
                    }
                    None => uart.write_bytes(line.as_bytes()),
                }
            }
            return Ok(());
        }
        let mut backlog = BACKLOG.lock();
        for &byte in s.as_bytes() {
            let needed = if byte == b'\n' { 2 } else { 1 };
            if backlog.len + needed > BACKLOG_BYTES {
                backlog.flush(uart);
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
        // Borrowed crates narrate their internals at info; keep only their
        // warnings (the access point's crate is ours: its joins and leaves show).
        let ours = metadata.target().starts_with("kernel") || metadata.target().starts_with("wifi");
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
