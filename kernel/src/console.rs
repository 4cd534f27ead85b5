//! The serial console and the `log` backend, with boot-relative timestamps.
//!
//! Output is polled and unbuffered so that a crash report gets out even when
//! the rest of the kernel is broken. The board names the UART (a PL011 on
//! QEMU `virt`, a 16550-style one on Allwinner SoCs); until then output is
//! dropped.

use core::fmt::{self, Write};
use core::sync::atomic::{AtomicUsize, Ordering};

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

/// The console as a `fmt::Write` sink.
pub struct Console;

impl Write for Console {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        let base = UART_BASE.load(Ordering::Relaxed);
        if base != 0 {
            for line in s.split_inclusive('\n') {
                match line.strip_suffix('\n') {
                    Some(text) => {
                        write_bytes(base, text.as_bytes());
                        write_bytes(base, b"\r\n");
                    }
                    None => write_bytes(base, line.as_bytes()),
                }
            }
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
