//! The serial console and the `log` backend, with boot-relative timestamps.
//!
//! Output is polled and unbuffered so that a crash report gets out even when
//! the rest of the kernel is broken. The board names the UART; until then
//! output is dropped.

use core::fmt::{self, Write};
use core::sync::atomic::{AtomicUsize, Ordering};

use crate::drivers::pl011;
use crate::time;

static PL011_BASE: AtomicUsize = AtomicUsize::new(0);

/// Which UART the console writes to.
#[derive(Clone, Copy, Debug)]
pub enum Uart {
    /// ARM PL011 at this address.
    Pl011(usize),
}

/// Points the console at the board's UART.
pub fn init(uart: Uart) {
    match uart {
        Uart::Pl011(base) => PL011_BASE.store(base, Ordering::Relaxed),
    }
}

/// The console as a `fmt::Write` sink.
pub struct Console;

impl Write for Console {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        let base = PL011_BASE.load(Ordering::Relaxed);
        if base != 0 {
            for line in s.split_inclusive('\n') {
                match line.strip_suffix('\n') {
                    Some(text) => {
                        pl011::write_bytes(base, text.as_bytes());
                        pl011::write_bytes(base, b"\r\n");
                    }
                    None => pl011::write_bytes(base, line.as_bytes()),
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
