//! smoltcp TCP sockets as picoserve connections, one socket per HTTP slot.
//!
//! smoltcp has no listen backlog, so each slot owns a socket that listens,
//! serves one connection, and listens again. When the last listening socket
//! is taken, the slot that has waited longest for its client (an idle
//! keep-alive or a slowloris trickle) is evicted, so a new visitor is never
//! locked out by connections that are not being served.

#![deny(unsafe_code)]

use core::cell::{Cell, RefCell};
use core::future::poll_fn;
use core::task::Poll;

use picoserve::io::{embedded_io_async, ErrorType, Read, Write};
use picoserve::mem::BorrowedBuffer;
use picoserve::time::Duration;
use smoltcp::iface::{SocketHandle, SocketSet};
use smoltcp::socket::tcp;

use super::executor::{yield_now, Deadlines, Sleep};
use crate::services::stats::STATS;

/// How long a connection must have waited for its client before it may be
/// evicted for a new one.
const EVICT_AFTER_US: u64 = 500_000;

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

/// Per-slot bookkeeping beside its socket.
struct Slot {
    handle: SocketHandle,
    port: u16,
    waiting_since_us: Cell<u64>,
    evict: Cell<bool>,
    headers_too_large: Cell<bool>,
}

impl Slot {
    /// True while the slot's connection is being closed for a new client.
    fn evicting(&self) -> bool {
        self.evict.get()
    }
}

/// The sockets and slots the connection tasks share with the stack.
pub struct Shared<'s> {
    /// Every smoltcp socket.
    pub sockets: RefCell<SocketSet<'s>>,
    /// Where sleeping tasks register their wake-up time.
    pub deadlines: Deadlines,
    /// One entry per slot, in the order `add_slots` made them.
    slots: RefCell<alloc::vec::Vec<Slot>>,
    /// TCP receive and send buffer bytes of each new slot's socket.
    buffer_bytes: (usize, usize),
    /// Microseconds since power-on.
    pub now_us: fn() -> u64,
}

impl<'s> Shared<'s> {
    /// No slots yet; each slot's TCP socket will get `rx_bytes` and
    /// `tx_bytes` of buffers.
    pub fn new(sockets: SocketSet<'s>, rx_bytes: usize, tx_bytes: usize, now_us: fn() -> u64) -> Self {
        Self {
            sockets: RefCell::new(sockets),
            deadlines: Deadlines::new(),
            slots: RefCell::new(alloc::vec::Vec::new()),
            buffer_bytes: (rx_bytes, tx_bytes),
            now_us,
        }
    }

    /// Adds `count` slots that listen on `port`, each with its socket, and
    /// returns their numbers. Ports can be added while others serve (HTTPS
    /// after HTTP listens, so that boot does not wait for its buffers); not
    /// from inside a connection task.
    pub fn add_slots(&self, port: u16, count: usize) -> core::ops::Range<usize> {
        let (rx_bytes, tx_bytes) = self.buffer_bytes;
        let mut sockets = self.sockets.borrow_mut();
        let mut slots = self.slots.borrow_mut();
        let first = slots.len();
        slots.extend((0..count).map(|_| {
            let rx = tcp::SocketBuffer::new(alloc::vec![0; rx_bytes]);
            let tx = tcp::SocketBuffer::new(alloc::vec![0; tx_bytes]);
            let mut socket = tcp::Socket::new(rx, tx);
            socket.set_nagle_enabled(false);
            socket.set_ack_delay(None);
            socket.set_timeout(Some(smoltcp::time::Duration::from_secs(20)));
            Slot {
                handle: sockets.add(socket),
                port,
                waiting_since_us: Cell::new(0),
                evict: Cell::new(false),
                headers_too_large: Cell::new(false),
            }
        }));
        first..slots.len()
    }

    /// True while some slot's connection is being closed for a new client.
    pub fn any_evicting(&self) -> bool {
        self.slots.borrow().iter().any(Slot::evicting)
    }

    fn with_slot<R>(&self, slot: usize, f: impl FnOnce(&Slot) -> R) -> Option<R> {
        self.slots.borrow().get(slot).map(f)
    }

    fn with_socket<R>(&self, slot: usize, f: impl FnOnce(&mut tcp::Socket<'s>, &Slot) -> R) -> Option<R> {
        let slots = self.slots.borrow();
        let slot = slots.get(slot)?;
        let mut sockets = self.sockets.borrow_mut();
        Some(f(sockets.get_mut::<tcp::Socket>(slot.handle), slot))
    }

    /// The IPv4 address of the slot's client, as a number (0 when none).
    pub fn client(&self, slot: usize) -> u32 {
        self.with_socket(slot, |socket, _| match socket.remote_endpoint() {
            Some(smoltcp::wire::IpEndpoint { addr: smoltcp::wire::IpAddress::Ipv4(address), .. }) => u32::from(address),
            _ => 0,
        })
        .unwrap_or(0)
    }

    /// Listens on the slot's port and waits for a client; then makes sure
    /// another slot of that port is still listening, evicting the
    /// longest-waiting one if needed.
    pub async fn accept(&self, slot: usize) {
        let Some(port) = self.with_slot(slot, |this| {
            this.evict.set(false);
            this.port
        }) else {
            return;
        };
        poll_fn(|cx| {
            self.with_socket(slot, |socket, _| {
                if !socket.is_open() && socket.listen(port).is_err() {
                    return Poll::Pending;
                }
                if socket.may_recv() || socket.may_send() {
                    Poll::Ready(())
                } else {
                    socket.register_recv_waker(cx.waker());
                    Poll::Pending
                }
            })
            .unwrap_or(Poll::Pending)
        })
        .await;
        self.with_slot(slot, |this| {
            this.waiting_since_us.set((self.now_us)());
            this.evict.set(false);
            this.headers_too_large.set(false);
        });
        self.keep_one_listening();
    }

    /// For each port with no slot listening, evicts the connection that has
    /// waited longest for its client, once it has waited `EVICT_AFTER_US`: a
    /// client being served is never cut off, an idle or trickling one makes
    /// room. Called after each accept and on every pass of the network loop.
    pub fn keep_one_listening(&self) {
        let slots = self.slots.borrow();
        for (n, slot) in slots.iter().enumerate() {
            let first_of_its_port = !slots[..n].iter().any(|earlier| earlier.port == slot.port);
            if first_of_its_port {
                self.keep_port_listening(&slots, slot.port);
            }
        }
    }

    fn keep_port_listening(&self, all_slots: &[Slot], port: u16) {
        let sockets = self.sockets.borrow();
        let mut slots = all_slots.iter().filter(|s| s.port == port);
        let listening = slots.clone().any(|s| sockets.get::<tcp::Socket>(s.handle).is_listening());
        if listening || slots.clone().count() < 2 || slots.any(|s| s.evict.get()) {
            return;
        }
        let oldest = all_slots
            .iter()
            .filter(|s| s.port == port && sockets.get::<tcp::Socket>(s.handle).is_active())
            .min_by_key(|s| s.waiting_since_us.get());
        if let Some(victim) = oldest {
            let eligible_at = victim.waiting_since_us.get() + EVICT_AFTER_US;
            if (self.now_us)() >= eligible_at {
                victim.evict.set(true);
                STATS.evicted.increment();
            } else {
                self.deadlines.register(eligible_at);
            }
        }
    }

    /// Closes the slot's connection: gracefully if it is still open (so
    /// queued bytes such as an error response get out), by reset after
    /// `linger` or if the peer does not finish.
    pub async fn close(&self, slot: usize, linger: Duration) {
        let deadline = (self.now_us)() + linger.as_millis() * 1000;
        self.with_socket(slot, |socket, _| socket.close());
        let finished = poll_fn(|cx| {
            self.with_socket(slot, |socket, this| {
                while socket.can_recv() {
                    let _ = socket.recv(|data| (data.len(), ()));
                }
                if !socket.is_active() || this.evict.get() {
                    Poll::Ready(true)
                } else if (self.now_us)() >= deadline {
                    Poll::Ready(false)
                } else {
                    socket.register_recv_waker(cx.waker());
                    self.deadlines.register(deadline);
                    Poll::Pending
                }
            })
            .unwrap_or(Poll::Ready(false))
        })
        .await;
        // Evicted mid-close, or the peer never finished: a half-closed
        // connection must not be taken for the next client.
        let still_active = self.with_socket(slot, |socket, _| socket.is_active()).unwrap_or(false);
        if !finished || still_active {
            self.abort(slot).await;
        }
    }

    /// Resets the slot's connection and lets the stack send the RST.
    pub async fn abort(&self, slot: usize) {
        self.with_socket(slot, |socket, _| socket.abort());
        yield_now().await;
    }
}

/// One HTTP slot's connection, as picoserve sees it.
pub struct Connection<'a, 's> {
    /// The shared sockets.
    pub shared: &'a Shared<'s>,
    /// Which slot.
    pub slot: usize,
}

/// Reading half of a `Connection`.
pub struct Reader<'a, 's>(&'a Shared<'s>, usize);
/// Writing half of a `Connection`.
pub struct Writer<'a, 's>(&'a Shared<'s>, usize);

impl ErrorType for Reader<'_, '_> {
    type Error = ConnectionError;
}
impl ErrorType for Writer<'_, '_> {
    type Error = ConnectionError;
}

impl Read for Reader<'_, '_> {
    async fn read(&mut self, buf: &mut [u8]) -> Result<usize, ConnectionError> {
        let Self(shared, slot) = *self;
        if buf.is_empty() {
            // picoserve asks for more bytes with no room left: the head is too large.
            shared.with_slot(slot, |this| this.headers_too_large.set(true));
            return Err(ConnectionError::HeadersTooLarge);
        }
        poll_fn(|cx| {
            shared
                .with_socket(slot, |socket, this| {
                    if this.evict.get() {
                        Poll::Ready(Err(ConnectionError::Evicted))
                    } else if socket.can_recv() {
                        Poll::Ready(socket.recv_slice(buf).map_err(|_| ConnectionError::Closed))
                    } else if !socket.may_recv() {
                        Poll::Ready(Ok(0))
                    } else {
                        socket.register_recv_waker(cx.waker());
                        Poll::Pending
                    }
                })
                .unwrap_or(Poll::Ready(Err(ConnectionError::Closed)))
        })
        .await
    }
}

impl Writer<'_, '_> {
    /// Waits for send buffer space, then hands it to `fill`, which returns
    /// (bytes written, result).
    async fn with_send_buffer<R>(&mut self, fill: impl FnOnce(&mut [u8]) -> (usize, R)) -> Result<R, ConnectionError> {
        let Self(shared, slot) = *self;
        let mut fill = Some(fill);
        poll_fn(|cx| {
            shared
                .with_socket(slot, |socket, this| {
                    if this.evict.get() {
                        Poll::Ready(Err(ConnectionError::Evicted))
                    } else if socket.can_send() {
                        this.waiting_since_us.set((shared.now_us)());
                        match fill.take() {
                            Some(fill) => Poll::Ready(socket.send(fill).map_err(|_| ConnectionError::Closed)),
                            None => Poll::Ready(Err(ConnectionError::Closed)),
                        }
                    } else if !socket.may_send() {
                        Poll::Ready(Err(ConnectionError::Closed))
                    } else {
                        socket.register_send_waker(cx.waker());
                        Poll::Pending
                    }
                })
                .unwrap_or(Poll::Ready(Err(ConnectionError::Closed)))
        })
        .await
    }
}

impl embedded_io_async::Write for Writer<'_, '_> {
    async fn write(&mut self, buf: &[u8]) -> Result<usize, ConnectionError> {
        self.with_send_buffer(|space| {
            let n = space.len().min(buf.len());
            space[..n].copy_from_slice(&buf[..n]);
            (n, n)
        })
        .await
    }

    /// Queued bytes go out on the stack's next poll; waiting here for their
    /// ACK would cost a round trip per response.
    async fn flush(&mut self) -> Result<(), ConnectionError> {
        Ok(())
    }
}

impl Write for Writer<'_, '_> {
    async fn write_with<F: FnOnce(picoserve::mem::BorrowedCursor<'_>) -> R, R>(&mut self, f: F) -> Result<R, ConnectionError> {
        self.with_send_buffer(|space| {
            let mut buffer = BorrowedBuffer::new(space);
            let result = f(buffer.unfilled());
            (buffer.len(), result)
        })
        .await
    }
}

/// The runtime marker for picoserve's `Socket` and `Timer`.
pub struct KernelRuntime;

impl<'a, 's> picoserve::io::Socket<KernelRuntime> for Connection<'a, 's> {
    type Error = ConnectionError;
    type ReadHalf<'r>
        = Reader<'a, 's>
    where
        Self: 'r;
    type WriteHalf<'r>
        = Writer<'a, 's>
    where
        Self: 'r;

    fn split(&mut self) -> (Self::ReadHalf<'_>, Self::WriteHalf<'_>) {
        (Reader(self.shared, self.slot), Writer(self.shared, self.slot))
    }

    async fn abort<T: picoserve::Timer<KernelRuntime>>(
        self,
        timeouts: &picoserve::Timeouts,
        _timer: &T,
    ) -> Result<(), picoserve::Error<ConnectionError>> {
        let too_large = self.shared.with_slot(self.slot, |s| s.headers_too_large.get()).unwrap_or(false);
        if too_large {
            STATS.bad_requests.increment();
            let mut writer = Writer(self.shared, self.slot);
            let _ = embedded_io_async::Write::write_all(&mut writer, HEADERS_TOO_LARGE).await;
        }
        // A graceful close delivers what picoserve queued (its 400 page, our 431).
        self.shared.close(self.slot, timeouts.write).await;
        Ok(())
    }

    async fn shutdown<T: picoserve::Timer<KernelRuntime>>(
        self,
        timeouts: &picoserve::Timeouts,
        _timer: &T,
    ) -> Result<(), picoserve::Error<ConnectionError>> {
        self.shared.close(self.slot, timeouts.read_request).await;
        Ok(())
    }
}

const HEADERS_TOO_LARGE: &[u8] = b"HTTP/1.1 431 Request Header Fields Too Large\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: 35\r\nConnection: close\r\n\r\nRequest headers are too large here.\n";

/// picoserve's clock: sleeps registered with the executor's deadlines.
#[derive(Clone, Copy)]
pub struct KernelTimer<'a> {
    /// Where to register wake-ups.
    pub deadlines: &'a Deadlines,
    /// Microseconds since power-on.
    pub now_us: fn() -> u64,
}

impl picoserve::Timer<KernelRuntime> for KernelTimer<'_> {
    fn delay(&self, duration: Duration) -> impl core::future::Future<Output = ()> {
        Sleep::until((self.now_us)() + duration.as_millis() * 1000, self.now_us, self.deadlines)
    }
}
