//! TCP connection slots: a fixed set of smoltcp sockets, one per slot, each
//! listening, serving one connection, and listening again.
//!
//! smoltcp has no listen backlog, so a slot is the unit of admission. When
//! the last listening socket of a port is taken, a connection that is not
//! being served is evicted, so a new visitor is never locked out: an idle
//! keep-alive first (it loses nothing), then the one stalled longest (a
//! client that stopped reading, or a slowloris trickle). The decision itself (`choose_eviction`) is a pure function
//! of the slots' states and the clock, tested on the host. Which protocol a
//! slot speaks is not known here: the services drive slots through
//! `accept`, `poll_recv`, `send_with`, `close` and `abort`.

#![deny(unsafe_code)]

use core::cell::{Cell, RefCell};
use core::future::poll_fn;
use core::task::{Context, Poll};

use smoltcp::iface::{SocketHandle, SocketSet};
use smoltcp::socket::tcp;

use super::executor::{yield_now, Deadlines};
use super::syn_gate::SynGate;
use crate::counters::{Counter, Gauge};

/// How long a connection must have waited for its client before it may be
/// evicted for a new one.
pub const EVICT_AFTER_US: u64 = 500_000;

/// Why a slot's connection cannot carry bytes any more.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SocketError {
    /// The peer or the stack closed or reset the connection.
    Closed,
    /// Closed to make room for a new client.
    Evicted,
}

/// What the slot layer decides, for `/stats.json`.
#[derive(Debug, Default)]
pub struct SlotCounters {
    /// Open connections (accepted and not yet finished).
    pub connections: Gauge,
    /// Idle connections closed early to make room for a new client.
    pub evicted: Counter,
}

/// Per-slot bookkeeping beside its socket.
struct Slot {
    handle: SocketHandle,
    port: u16,
    waiting_since_us: Cell<u64>,
    /// Its task has taken the connection (`accept` returned). Until then a
    /// connection the stack just established has no age of its own: it is
    /// the newcomer, not a candidate for eviction.
    accepted: Cell<bool>,
    /// The client sent bytes since the slot last sent: it is mid-request,
    /// not idle.
    received_since_send: Cell<bool>,
    evict: Cell<bool>,
}

/// One slot's state as the eviction decision sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SlotState {
    /// The port the slot serves.
    pub port: u16,
    /// Its socket listens for a new client.
    pub listening: bool,
    /// Its socket carries a connection its task has taken.
    pub active: bool,
    /// Since when (µs) the connection has waited for its client.
    pub waiting_since_us: u64,
    /// Between requests: everything sent was acknowledged and the client has
    /// sent nothing since. Closing it costs the client nothing.
    pub idle: bool,
    /// Already being closed for a new client.
    pub evicting: bool,
}

/// What to do so that `port` keeps a listening socket.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Eviction {
    /// Nothing to do: a socket listens, a slot is already being freed, or
    /// the port has a single slot (it must finish its client first).
    None,
    /// Evict the slot at this index.
    Evict(usize),
    /// The best candidate becomes eligible at this time (µs): look again then.
    WaitUntil(u64),
}

/// Decides which slot of `port` to free, if any, among the active
/// connections that have waited `EVICT_AFTER_US` for their client: an idle
/// one before a stalled one, and within each the one that has waited
/// longest. A client being served (its slot sent recently) is never cut off.
pub fn choose_eviction(slots: &[SlotState], port: u16, now_us: u64) -> Eviction {
    let of_port = || slots.iter().enumerate().filter(move |(_, s)| s.port == port);
    if of_port().any(|(_, s)| s.listening || s.evicting) || of_port().count() < 2 {
        return Eviction::None;
    }
    let eligible_at = |s: &SlotState| s.waiting_since_us.saturating_add(EVICT_AFTER_US);
    let active = || of_port().filter(|(_, s)| s.active);
    let victim = active().filter(|(_, s)| now_us >= eligible_at(s)).min_by_key(|(_, s)| (!s.idle, s.waiting_since_us));
    match (victim, active().map(|(_, s)| eligible_at(s)).min()) {
        (Some((index, _)), _) => Eviction::Evict(index),
        (None, Some(at)) => Eviction::WaitUntil(at),
        (None, None) => Eviction::None,
    }
}

/// The sockets and slots the connection tasks share with the stack.
pub struct Shared<'s, 'c> {
    /// Every smoltcp socket.
    pub sockets: RefCell<SocketSet<'s>>,
    /// Where sleeping tasks register their wake-up time.
    pub deadlines: Deadlines,
    /// One entry per slot, in the order `add_slots` made them.
    slots: RefCell<alloc::vec::Vec<Slot>>,
    /// The slots' ports, each once, so that a pass over the ports does
    /// not search the slots for them (HTTPS's would be behind every HTTP slot).
    ports: RefCell<alloc::vec::Vec<u16>>,
    /// What `keep_one_listening` saw of each slot on its last pass, kept so
    /// that the network loop's every pass does not allocate.
    states: RefCell<alloc::vec::Vec<SlotState>>,
    /// TCP receive and send buffer bytes of each new slot's socket.
    buffer_bytes: (usize, usize),
    /// Microseconds since power-on.
    pub now_us: fn() -> u64,
    counters: &'c SlotCounters,
}

/// An accepted connection: the open-connections gauge counts it until dropped.
pub struct Open<'c>(&'c Gauge);

impl Drop for Open<'_> {
    fn drop(&mut self) {
        self.0.down();
    }
}

impl<'s, 'c> Shared<'s, 'c> {
    /// No slots yet; each slot's TCP socket will get `rx_bytes` and
    /// `tx_bytes` of buffers; decisions are counted in `counters`.
    pub fn new(sockets: SocketSet<'s>, rx_bytes: usize, tx_bytes: usize, now_us: fn() -> u64, counters: &'c SlotCounters) -> Self {
        Self {
            sockets: RefCell::new(sockets),
            deadlines: Deadlines::new(),
            slots: RefCell::new(alloc::vec::Vec::new()),
            ports: RefCell::new(alloc::vec::Vec::new()),
            states: RefCell::new(alloc::vec::Vec::new()),
            buffer_bytes: (rx_bytes, tx_bytes),
            now_us,
            counters,
        }
    }

    /// Adds `count` slots that listen on `port`, each with its socket, and
    /// returns their numbers. Ports can be added while others serve (HTTPS
    /// after HTTP listens, so that boot does not wait for its buffers); not
    /// while a socket of this set is borrowed.
    pub fn add_slots(&self, port: u16, count: usize) -> core::ops::Range<usize> {
        let (rx_bytes, tx_bytes) = self.buffer_bytes;
        let mut sockets = self.sockets.borrow_mut();
        let mut slots = self.slots.borrow_mut();
        let first = slots.len();
        let mut ports = self.ports.borrow_mut();
        if !ports.contains(&port) {
            ports.push(port);
        }
        slots.extend((0..count).map(|_| {
            let rx = tcp::SocketBuffer::new(alloc::vec![0; rx_bytes]);
            let tx = tcp::SocketBuffer::new(alloc::vec![0; tx_bytes]);
            let mut socket = tcp::Socket::new(rx, tx);
            socket.set_nagle_enabled(false);
            socket.set_ack_delay(None);
            socket.set_timeout(Some(smoltcp::time::Duration::from_secs(20)));
            Slot { handle: sockets.add(socket), port, waiting_since_us: Cell::new(0), accepted: Cell::new(false), received_since_send: Cell::new(false), evict: Cell::new(false) }
        }));
        first..slots.len()
    }

    /// True while some slot's connection is being closed for a new client.
    pub fn any_evicting(&self) -> bool {
        self.slots.borrow().iter().any(|slot| slot.evict.get())
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
    /// longest-waiting one if needed. The connection counts as open until
    /// the returned guard is dropped.
    pub async fn accept(&self, slot: usize) -> Open<'c> {
        let port = self.with_slot(slot, |this| {
            this.evict.set(false);
            this.accepted.set(false);
            this.port
        });
        if let Some(port) = port {
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
                this.received_since_send.set(false);
                this.evict.set(false);
                this.accepted.set(true);
            });
            self.keep_one_listening();
        } else {
            core::future::pending::<()>().await;
        }
        self.counters.connections.up();
        Open(&self.counters.connections)
    }

    /// For each port with no slot listening, evicts the connection that has
    /// waited longest for its client (see `choose_eviction`). Called after
    /// each accept and on every pass of the network loop, so the usual case
    /// (every port has a slot listening or being freed, and
    /// `choose_eviction` would decide nothing) is found without a look at
    /// every slot's state.
    pub fn keep_one_listening(&self) {
        let slots = self.slots.borrow();
        let every_port_listens = {
            let sockets = self.sockets.borrow();
            let listens = |slot: &Slot| slot.evict.get() || sockets.get::<tcp::Socket>(slot.handle).is_listening();
            self.ports.borrow().iter().all(|&port| slots.iter().any(|slot| slot.port == port && listens(slot)))
        };
        if every_port_listens {
            return;
        }
        let mut states = self.states.borrow_mut();
        states.clear();
        {
            let sockets = self.sockets.borrow();
            states.extend(slots.iter().map(|slot| {
                let socket = sockets.get::<tcp::Socket>(slot.handle);
                SlotState {
                    port: slot.port,
                    listening: socket.is_listening(),
                    active: socket.is_active() && slot.accepted.get(),
                    waiting_since_us: slot.waiting_since_us.get(),
                    idle: !slot.received_since_send.get() && socket.send_queue() == 0,
                    evicting: slot.evict.get(),
                }
            }));
        }
        let now_us = (self.now_us)();
        for &port in self.ports.borrow().iter() {
            match choose_eviction(&states, port, now_us) {
                Eviction::Evict(victim) => {
                    slots[victim].evict.set(true);
                    self.counters.evicted.increment();
                }
                Eviction::WaitUntil(at) => self.deadlines.register(at),
                Eviction::None => {}
            }
        }
    }

    /// Counts each port's listening slots into `gate`, for the pass of the
    /// network loop about to poll the stack.
    pub fn count_listeners(&self, gate: &mut SynGate) {
        let slots = self.slots.borrow();
        let sockets = self.sockets.borrow();
        gate.clear();
        for slot in slots.iter() {
            gate.count_slot(slot.port, sockets.get::<tcp::Socket>(slot.handle).is_listening());
        }
    }

    /// Reads what the client sent into `buf`: `Ready(Ok(0))` once it has
    /// finished sending, `Pending` (with the waker registered) while nothing
    /// is waiting.
    pub fn poll_recv(&self, slot: usize, cx: &mut Context<'_>, buf: &mut [u8]) -> Poll<Result<usize, SocketError>> {
        self.with_socket(slot, |socket, this| {
            if this.evict.get() {
                Poll::Ready(Err(SocketError::Evicted))
            } else if socket.can_recv() {
                let received = socket.recv_slice(buf).map_err(|_| SocketError::Closed);
                if matches!(received, Ok(n) if n > 0) {
                    this.received_since_send.set(true);
                }
                Poll::Ready(received)
            } else if !socket.may_recv() {
                Poll::Ready(Ok(0))
            } else {
                socket.register_recv_waker(cx.waker());
                Poll::Pending
            }
        })
        .unwrap_or(Poll::Ready(Err(SocketError::Closed)))
    }

    /// Waits for send buffer space, then hands it to `fill`, which returns
    /// (bytes written, result). Sending counts as activity: the slot is not
    /// an eviction candidate while it moves bytes.
    pub async fn send_with<R>(&self, slot: usize, fill: impl FnOnce(&mut [u8]) -> (usize, R)) -> Result<R, SocketError> {
        let mut fill = Some(fill);
        poll_fn(|cx| {
            self.with_socket(slot, |socket, this| {
                if this.evict.get() {
                    Poll::Ready(Err(SocketError::Evicted))
                } else if socket.can_send() {
                    this.waiting_since_us.set((self.now_us)());
                    this.received_since_send.set(false);
                    match fill.take() {
                        Some(fill) => Poll::Ready(socket.send(fill).map_err(|_| SocketError::Closed)),
                        None => Poll::Ready(Err(SocketError::Closed)),
                    }
                } else if !socket.may_send() {
                    Poll::Ready(Err(SocketError::Closed))
                } else {
                    socket.register_send_waker(cx.waker());
                    Poll::Pending
                }
            })
            .unwrap_or(Poll::Ready(Err(SocketError::Closed)))
        })
        .await
    }

    /// Closes the slot's connection: gracefully if it is still open (so
    /// queued bytes such as an error response get out), by reset after
    /// `linger_us` or if the peer does not finish.
    pub async fn close(&self, slot: usize, linger_us: u64) {
        let deadline = (self.now_us)() + linger_us;
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

#[cfg(test)]
mod tests {
    use super::*;

    fn serving(waiting_since_us: u64) -> SlotState {
        SlotState { port: 80, listening: false, active: true, waiting_since_us, idle: false, evicting: false }
    }

    fn idle(waiting_since_us: u64) -> SlotState {
        SlotState { idle: true, ..serving(waiting_since_us) }
    }

    #[test]
    fn a_listening_socket_means_nobody_is_evicted() {
        let slots = [serving(0), SlotState { listening: true, active: false, ..serving(0) }];
        assert_eq!(choose_eviction(&slots, 80, 10_000_000), Eviction::None);
    }

    #[test]
    fn the_longest_waiting_connection_goes_first() {
        let slots = [serving(300_000), serving(100_000), serving(200_000)];
        assert_eq!(choose_eviction(&slots, 80, 1_000_000), Eviction::Evict(1));
    }

    #[test]
    fn a_connection_that_just_moved_bytes_is_not_evicted_yet() {
        let slots = [serving(900_000), serving(800_000)];
        assert_eq!(choose_eviction(&slots, 80, 1_000_000), Eviction::WaitUntil(1_300_000));
        assert_eq!(choose_eviction(&slots, 80, 1_300_000), Eviction::Evict(1));
    }

    #[test]
    fn one_eviction_at_a_time() {
        let slots = [serving(0), SlotState { evicting: true, ..serving(0) }];
        assert_eq!(choose_eviction(&slots, 80, 10_000_000), Eviction::None);
    }

    #[test]
    fn a_single_slot_port_finishes_its_client() {
        let slots = [serving(0), SlotState { port: 443, ..serving(0) }];
        assert_eq!(choose_eviction(&slots, 443, 10_000_000), Eviction::None);
    }

    #[test]
    fn ports_are_decided_separately() {
        let slots = [serving(0), serving(0), SlotState { port: 443, listening: true, active: false, ..serving(0) }, SlotState { port: 443, ..serving(0) }];
        assert_eq!(choose_eviction(&slots, 443, 10_000_000), Eviction::None);
        assert_eq!(choose_eviction(&slots, 80, 10_000_000), Eviction::Evict(0));
    }

    #[test]
    fn an_idle_keep_alive_goes_before_a_connection_stalled_longer() {
        let slots = [serving(100_000), idle(400_000), serving(200_000), idle(300_000)];
        assert_eq!(choose_eviction(&slots, 80, 1_000_000), Eviction::Evict(3));
    }

    #[test]
    fn a_stalled_connection_goes_when_no_idle_one_has_waited_long_enough() {
        let slots = [serving(100_000), idle(900_000)];
        assert_eq!(choose_eviction(&slots, 80, 1_000_000), Eviction::Evict(0));
    }

    #[test]
    fn nobody_eligible_waits_for_the_first_to_become_so() {
        let slots = [serving(800_000), idle(700_000), SlotState { active: false, ..serving(0) }];
        assert_eq!(choose_eviction(&slots, 80, 1_000_000), Eviction::WaitUntil(1_200_000));
    }
}
