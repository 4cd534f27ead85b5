//! A TCP slot as picoserve sees it: its `Socket` (read and write halves,
//! graceful close) and its `Timer`, over the slot layer of `net::tcp`.
//!
//! The HTTP-specific part of a connection lives here, not in `net`: a
//! request head larger than picoserve's buffer is answered with 431 before
//! the connection closes, and counted as a bad request.

#![deny(unsafe_code)]

use core::cell::Cell;
use core::future::poll_fn;

use picoserve::io::{embedded_io_async, ErrorType, Read, Write};
use picoserve::mem::BorrowedBuffer;
use picoserve::time::Duration;

use super::HttpCounters;
use crate::net::executor::{Deadlines, Sleep};
use crate::net::tcp::{Shared, SocketError};

/// Why a connection stopped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConnectionError {
    /// The peer or the stack closed or reset the connection.
    Closed,
    /// The request head did not fit the HTTP buffer (answered with 431).
    HeadersTooLarge,
    /// Closed to make room for a new client.
    Evicted,
}

impl From<SocketError> for ConnectionError {
    fn from(error: SocketError) -> Self {
        match error {
            SocketError::Closed => Self::Closed,
            SocketError::Evicted => Self::Evicted,
        }
    }
}

impl core::fmt::Display for ConnectionError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(match self {
            Self::Closed => "connection closed",
            Self::HeadersTooLarge => "request head too large",
            Self::Evicted => "evicted for a new client",
        })
    }
}

impl core::error::Error for ConnectionError {}

impl embedded_io_async::Error for ConnectionError {
    fn kind(&self) -> embedded_io_async::ErrorKind {
        match self {
            Self::Closed | Self::Evicted => embedded_io_async::ErrorKind::ConnectionReset,
            Self::HeadersTooLarge => embedded_io_async::ErrorKind::OutOfMemory,
        }
    }
}

/// One slot's accepted connection.
pub struct Connection<'a, 's, 'c> {
    shared: &'a Shared<'s, 'c>,
    slot: usize,
    counters: &'a HttpCounters,
    headers_too_large: Cell<bool>,
}

impl<'a, 's, 'c> Connection<'a, 's, 'c> {
    /// The connection `slot` has just accepted; bad requests count in `counters`.
    pub fn new(shared: &'a Shared<'s, 'c>, slot: usize, counters: &'a HttpCounters) -> Self {
        Self { shared, slot, counters, headers_too_large: Cell::new(false) }
    }
}

/// Reading half of a `Connection`.
pub struct Reader<'r, 's, 'c> {
    shared: &'r Shared<'s, 'c>,
    slot: usize,
    headers_too_large: &'r Cell<bool>,
}

/// Writing half of a `Connection`.
pub struct Writer<'r, 's, 'c> {
    shared: &'r Shared<'s, 'c>,
    slot: usize,
}

impl ErrorType for Reader<'_, '_, '_> {
    type Error = ConnectionError;
}
impl ErrorType for Writer<'_, '_, '_> {
    type Error = ConnectionError;
}

impl Read for Reader<'_, '_, '_> {
    async fn read(&mut self, buf: &mut [u8]) -> Result<usize, ConnectionError> {
        if buf.is_empty() {
            // picoserve asks for more bytes with no room left: the head is too large.
            self.headers_too_large.set(true);
            return Err(ConnectionError::HeadersTooLarge);
        }
        poll_fn(|cx| self.shared.poll_recv(self.slot, cx, buf)).await.map_err(ConnectionError::from)
    }
}

impl embedded_io_async::Write for Writer<'_, '_, '_> {
    async fn write(&mut self, buf: &[u8]) -> Result<usize, ConnectionError> {
        let fill = |space: &mut [u8]| {
            let n = space.len().min(buf.len());
            space[..n].copy_from_slice(&buf[..n]);
            (n, n)
        };
        self.shared.send_with(self.slot, fill).await.map_err(ConnectionError::from)
    }

    /// Queued bytes go out on the stack's next poll; waiting here for their
    /// ACK would cost a round trip per response.
    async fn flush(&mut self) -> Result<(), ConnectionError> {
        Ok(())
    }
}

impl Write for Writer<'_, '_, '_> {
    async fn write_with<F: FnOnce(picoserve::mem::BorrowedCursor<'_>) -> R, R>(&mut self, f: F) -> Result<R, ConnectionError> {
        let fill = |space: &mut [u8]| {
            let mut buffer = BorrowedBuffer::new(space);
            let result = f(buffer.unfilled());
            (buffer.len(), result)
        };
        self.shared.send_with(self.slot, fill).await.map_err(ConnectionError::from)
    }
}

/// The runtime marker for picoserve's `Socket` and `Timer`.
pub struct KernelRuntime;

impl<'a, 's, 'c> picoserve::io::Socket<KernelRuntime> for Connection<'a, 's, 'c> {
    type Error = ConnectionError;
    type ReadHalf<'r>
        = Reader<'r, 's, 'c>
    where
        Self: 'r;
    type WriteHalf<'r>
        = Writer<'r, 's, 'c>
    where
        Self: 'r;

    fn split(&mut self) -> (Self::ReadHalf<'_>, Self::WriteHalf<'_>) {
        let reader = Reader { shared: self.shared, slot: self.slot, headers_too_large: &self.headers_too_large };
        (reader, Writer { shared: self.shared, slot: self.slot })
    }

    async fn abort<T: picoserve::Timer<KernelRuntime>>(
        self,
        timeouts: &picoserve::Timeouts,
        _timer: &T,
    ) -> Result<(), picoserve::Error<ConnectionError>> {
        if self.headers_too_large.get() {
            self.counters.bad_requests.increment();
            let mut writer = Writer { shared: self.shared, slot: self.slot };
            let _ = embedded_io_async::Write::write_all(&mut writer, HEADERS_TOO_LARGE).await;
        }
        // A graceful close delivers what picoserve queued (its 400 page, our 431).
        self.shared.close(self.slot, micros(timeouts.write)).await;
        Ok(())
    }

    async fn shutdown<T: picoserve::Timer<KernelRuntime>>(
        self,
        timeouts: &picoserve::Timeouts,
        _timer: &T,
    ) -> Result<(), picoserve::Error<ConnectionError>> {
        self.shared.close(self.slot, micros(timeouts.read_request)).await;
        Ok(())
    }
}

fn micros(duration: Duration) -> u64 {
    duration.as_millis() * 1000
}

const HEADERS_TOO_LARGE: &[u8] = b"HTTP/1.1 431 Request Header Fields Too Large\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: 35\r\nConnection: close\r\n\r\nRequest headers are too large here.\n";

/// picoserve's clock: sleeps registered with the executor's deadlines.
#[derive(Clone, Copy)]
pub struct KernelTimer<'a> {
    /// Where to register wake-ups.
    pub deadlines: &'a Deadlines,
    /// Microseconds since power-on.
    pub now_us: fn() -> u64,
    /// Set when one of picoserve's timeouts fires. picoserve ends an idle
    /// keep-alive connection the same way as one the client closed; this
    /// tells the two apart, so that idle closes count as timed out.
    pub expired: &'a Cell<bool>,
}

impl picoserve::Timer<KernelRuntime> for KernelTimer<'_> {
    fn delay(&self, duration: Duration) -> impl core::future::Future<Output = ()> {
        let (sleep, expired) = (Sleep::until((self.now_us)() + micros(duration), self.now_us, self.deadlines), self.expired);
        async move {
            sleep.await;
            expired.set(true);
        }
    }
}
