//! A TLS connection as a picoserve socket: `TlsSocket<S>` wraps any
//! picoserve socket (a smoltcp TCP connection, an in-memory pipe) and is one,
//! so the HTTP router serves HTTPS without knowing.
//!
//! rustls' unbuffered API does the protocol; this file owns the buffers and
//! moves bytes. The handshake runs first, owning the whole transport
//! (`TlsServer::accept`); after it, picoserve's read and write halves share
//! the connection state through a `RefCell` that is never held across an
//! `.await`. Every buffer is bounded: one maximum-size TLS record in, one
//! out, a small staging area for plaintext.

use alloc::boxed::Box;
use alloc::vec;
use alloc::vec::Vec;
use core::cell::RefCell;

use picoserve::io::embedded_io_async::Write as _;
use picoserve::io::{embedded_io_async, ErrorType, Read, Write};
use picoserve::mem::BorrowedBuffer;
use picoserve::time::Duration;
use picoserve::{Timeouts, Timer};
use rustls::server::UnbufferedServerConnection;
use rustls::unbuffered::{ConnectionState, EncodeError, EncryptError, InsufficientSizeError, UnbufferedStatus};

use super::phases::{self, Phase};

/// Largest TLS record rustls will wait for (16 KiB + 2 KiB + 5-byte
/// header): the incoming buffer holds one, so rustls itself judges every
/// record and answers oversize ones with an alert.
pub const INCOMING_BYTES: usize = 16_384 + 2_048 + 5;
/// Plaintext per record when the writer seals a large write directly.
pub const MAX_PLAINTEXT_RECORD: usize = 16_384;
/// Plaintext the writer gathers (headers, small writes) before sealing a record.
pub const STAGING_BYTES: usize = 4_096;
/// TCP bytes the reader takes per read before handing them to rustls.
pub const SCRATCH_BYTES: usize = 2_048;
/// Encrypted bytes allowed to wait for the transport: a full record plus
/// room for alerts and key updates. A peer that provokes more is dropped.
const OUT_LIMIT: usize = INCOMING_BYTES + 2_048;
/// Timeouts for delivering a final alert or close_notify.
const CLOSING: Timeouts = Timeouts {
    start_read_request: Duration::from_secs(1),
    persistent_start_read_request: Duration::from_secs(1),
    read_request: Duration::from_secs(1),
    write: Duration::from_secs(1),
};

/// What went wrong on a TLS connection.
#[derive(Debug)]
pub enum TlsError<E> {
    /// The transport failed.
    Io(E),
    /// The peer broke the protocol, or the handshake could not agree; an
    /// alert was sent where rustls had one.
    Tls(rustls::Error),
    /// The peer closed (or reset) the connection before the handshake finished.
    ClosedInHandshake,
    /// The handshake did not finish within `TlsServer::handshake_timeout`.
    Timeout,
}

impl<E: core::fmt::Debug> core::fmt::Display for TlsError<E> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            Self::Io(error) => write!(f, "transport: {error:?}"),
            Self::Tls(error) => write!(f, "TLS: {error}"),
            Self::ClosedInHandshake => f.write_str("peer closed during the handshake"),
            Self::Timeout => f.write_str("handshake timed out"),
        }
    }
}

impl<E: core::fmt::Debug> core::error::Error for TlsError<E> {}

impl<E: embedded_io_async::Error> embedded_io_async::Error for TlsError<E> {
    fn kind(&self) -> embedded_io_async::ErrorKind {
        match self {
            Self::Io(error) => error.kind(),
            Self::Tls(_) => embedded_io_async::ErrorKind::InvalidData,
            Self::ClosedInHandshake => embedded_io_async::ErrorKind::ConnectionReset,
            Self::Timeout => embedded_io_async::ErrorKind::TimedOut,
        }
    }
}

/// Where one call into rustls got to.
enum Step {
    /// Decrypted application data was appended to `plaintext`.
    Plaintext,
    /// rustls needs more bytes from the peer.
    NeedInput,
    /// The requested application data (or close_notify) was sealed into `out`.
    Sealed,
    /// The peer sent close_notify: no more data will come.
    PeerClosed,
}

/// What the caller wants sealed when rustls allows writing.
#[derive(Clone, Copy)]
enum Seal<'d> {
    Nothing,
    Data(&'d [u8]),
    CloseNotify,
}

/// One connection's rustls state and buffers.
pub(super) struct Core {
    conn: UnbufferedServerConnection,
    /// Bytes from the peer not yet consumed by rustls: `incoming[..filled]`.
    incoming: Box<[u8]>,
    filled: usize,
    /// Encrypted bytes waiting for the transport, oldest first.
    out: Vec<u8>,
    /// Decrypted bytes waiting for the reader: `plaintext[taken..]`.
    plaintext: Vec<u8>,
    taken: usize,
    peer_closed: bool,
    transport_eof: bool,
    /// Set on the first error; after the one call that fetches its alert,
    /// rustls is not called again.
    failure: Option<rustls::Error>,
}

impl Core {
    pub(super) fn new(conn: UnbufferedServerConnection) -> Self {
        Self {
            conn,
            incoming: vec![0; INCOMING_BYTES].into_boxed_slice(),
            filled: 0,
            out: Vec::new(),
            plaintext: Vec::new(),
            taken: 0,
            peer_closed: false,
            transport_eof: false,
            failure: None,
        }
    }

    /// Calls rustls until it has something for the caller, sealing `seal`
    /// when it allows writing. Handshake records and alerts go to `out`.
    fn step(&mut self, seal: Seal<'_>) -> Result<Step, rustls::Error> {
        if let Some(failure) = &self.failure {
            return Err(failure.clone());
        }
        let result = self.step_inner(seal);
        match result {
            Err(error) => Err(self.fail(error)),
            Ok(step) => Ok(step),
        }
    }

    fn step_inner(&mut self, seal: Seal<'_>) -> Result<Step, rustls::Error> {
        let Self { conn, incoming, filled, out, plaintext, peer_closed, .. } = self;
        loop {
            let UnbufferedStatus { mut discard, state } = conn.process_tls_records(&mut incoming[..*filled]);
            let outcome = match state {
                Err(error) => Some(Err(error)),
                Ok(ConnectionState::ReadTraffic(mut records)) => {
                    let mut outcome = Ok(Step::Plaintext);
                    while let Some(record) = records.next_record() {
                        match record {
                            Ok(record) => {
                                discard += record.discard;
                                plaintext.extend_from_slice(record.payload);
                            }
                            Err(error) => {
                                outcome = Err(error);
                                break;
                            }
                        }
                    }
                    Some(outcome)
                }
                Ok(ConnectionState::EncodeTlsData(mut encode)) => {
                    match append(out, |buffer| encode.encode(buffer).map_err(Grow::from)) {
                        Ok(()) => None,
                        Err(error) => Some(Err(error)),
                    }
                }
                // Encoded records stay in `out` until the transport takes them, in order.
                Ok(ConnectionState::TransmitTlsData(transmit)) => {
                    transmit.done();
                    None
                }
                Ok(ConnectionState::BlockedHandshake) => Some(Ok(Step::NeedInput)),
                Ok(ConnectionState::WriteTraffic(mut traffic)) => Some(match seal {
                    Seal::Nothing => Ok(Step::NeedInput),
                    Seal::Data(data) => append(out, |buffer| traffic.encrypt(data, buffer).map_err(Grow::from)).map(|()| Step::Sealed),
                    Seal::CloseNotify => append(out, |buffer| traffic.queue_close_notify(buffer).map_err(Grow::from)).map(|()| Step::Sealed),
                }),
                Ok(ConnectionState::PeerClosed) => {
                    *peer_closed = true;
                    Some(Ok(Step::PeerClosed))
                }
                Ok(ConnectionState::Closed) => Some(Ok(Step::PeerClosed)),
                // Early data is never enabled; anything newer is not expected.
                Ok(_) => Some(Err(rustls::Error::General("unexpected TLS connection state".into()))),
            };
            if discard > 0 {
                let discard = discard.min(*filled);
                incoming.copy_within(discard..*filled, 0);
                *filled -= discard;
            }
            if let Some(outcome) = outcome {
                return outcome;
            }
        }
    }

    /// Records the first error and encodes the alert rustls queued for it.
    /// rustls is called exactly once more: the queued alert is the first
    /// thing it hands out, before it would look at (and fail on) the
    /// remaining input again.
    fn fail(&mut self, error: rustls::Error) -> rustls::Error {
        self.failure = Some(error.clone());
        let Self { conn, incoming, filled, out, .. } = self;
        let UnbufferedStatus { discard, state } = conn.process_tls_records(&mut incoming[..*filled]);
        if let Ok(ConnectionState::EncodeTlsData(mut encode)) = state {
            let _ = append(out, |buffer| encode.encode(buffer).map_err(Grow::from));
        }
        let discard = discard.min(*filled);
        incoming.copy_within(discard..*filled, 0);
        *filled -= discard;
        error
    }

    /// Moves buffered plaintext to `buf`; `None` when there is none.
    fn take_plaintext(&mut self, buf: &mut [u8]) -> Option<usize> {
        let available = &self.plaintext[self.taken..];
        if available.is_empty() {
            return None;
        }
        let n = available.len().min(buf.len());
        buf[..n].copy_from_slice(&available[..n]);
        self.taken += n;
        if self.taken == self.plaintext.len() {
            self.plaintext.clear();
            self.taken = 0;
        }
        Some(n)
    }

    fn free_incoming(&self) -> usize {
        self.incoming.len() - self.filled
    }

    fn push_incoming(&mut self, bytes: &[u8]) {
        let end = self.filled + bytes.len();
        self.incoming[self.filled..end].copy_from_slice(bytes);
        self.filled = end;
    }

    /// Seals `data` (at most one record's worth) into `out`.
    fn seal<E>(&mut self, data: &[u8]) -> Result<(), TlsError<E>> {
        loop {
            match self.step(Seal::Data(data)).map_err(TlsError::Tls)? {
                Step::Sealed => return Ok(()),
                // Reads that arrive while writing are kept for the reader.
                Step::Plaintext | Step::PeerClosed => continue,
                Step::NeedInput => return Err(TlsError::Tls(rustls::Error::HandshakeNotComplete)),
            }
        }
    }

    /// Seals close_notify, if the connection is still healthy.
    fn close_notify(&mut self) {
        for _ in 0..4 {
            match self.step(Seal::CloseNotify) {
                Ok(Step::Plaintext | Step::PeerClosed) => continue,
                _ => return,
            }
        }
    }

    /// Runs the handshake on `socket`, which it owns for the duration.
    /// Returns once the client's Finished has been checked; application data
    /// that came with it waits in `plaintext`. On error the alert (if any)
    /// is left in `out` for the caller to deliver.
    pub(super) async fn handshake<R, S: picoserve::io::Socket<R>>(&mut self, socket: &mut S) -> Result<(), TlsError<S::Error>> {
        let (mut rx, mut tx) = socket.split();
        loop {
            let step = phases::timing(true, || phases::timed(Phase::Rustls, || self.step(Seal::Nothing))).map_err(TlsError::Tls)?;
            if !self.out.is_empty() {
                tx.write_all(&self.out).await.map_err(TlsError::Io)?;
                tx.flush().await.map_err(TlsError::Io)?;
                self.out.clear();
            }
            if !self.conn.is_handshaking() {
                return Ok(());
            }
            match step {
                Step::Plaintext => continue,
                Step::NeedInput | Step::Sealed => {}
                Step::PeerClosed => return Err(TlsError::ClosedInHandshake),
            }
            if self.free_incoming() == 0 {
                // Cannot happen: rustls refuses records longer than the buffer.
                return Err(TlsError::Tls(self.fail(rustls::Error::PeerSentOversizedRecord)));
            }
            let filled = self.filled;
            let n = rx.read(&mut self.incoming[filled..]).await.map_err(TlsError::Io)?;
            if n == 0 {
                return Err(TlsError::ClosedInHandshake);
            }
            self.filled += n;
        }
    }

    /// Encrypted bytes waiting to be sent (an alert after a failed handshake).
    pub(super) fn pending_output(&self) -> &[u8] {
        &self.out
    }
}

/// Why an `append` closure could not write.
enum Grow {
    /// The buffer must have at least this many bytes.
    To(usize),
    Failed(rustls::Error),
}

impl From<EncodeError> for Grow {
    fn from(error: EncodeError) -> Self {
        match error {
            EncodeError::InsufficientSize(InsufficientSizeError { required_size }) => Self::To(required_size),
            EncodeError::AlreadyEncoded => Self::Failed(rustls::Error::General("record encoded twice".into())),
        }
    }
}

impl From<EncryptError> for Grow {
    fn from(error: EncryptError) -> Self {
        match error {
            EncryptError::InsufficientSize(InsufficientSizeError { required_size }) => Self::To(required_size),
            EncryptError::EncryptExhausted => Self::Failed(rustls::Error::EncryptError),
        }
    }
}

/// Lets `write` append to `out`, growing it to what rustls asks for (within `OUT_LIMIT`).
fn append(out: &mut Vec<u8>, mut write: impl FnMut(&mut [u8]) -> Result<usize, Grow>) -> Result<(), rustls::Error> {
    let start = out.len();
    let mut room = 64;
    loop {
        if start + room > OUT_LIMIT {
            out.truncate(start);
            return Err(rustls::Error::General("TLS output backlog over its limit".into()));
        }
        out.resize(start + room, 0);
        match write(&mut out[start..]) {
            Ok(written) => {
                out.truncate(start + written);
                return Ok(());
            }
            Err(Grow::To(required)) if required > room => room = required,
            Err(Grow::To(_)) => room *= 2,
            Err(Grow::Failed(error)) => {
                out.truncate(start);
                return Err(error);
            }
        }
    }
}

/// A TLS connection over transport `S`, ready for picoserve.
pub struct TlsSocket<S> {
    inner: S,
    core: RefCell<Core>,
    scratch: Box<[u8]>,
    staging: Box<[u8]>,
    staged: usize,
}

impl<S> TlsSocket<S> {
    pub(super) fn new(inner: S, core: Core) -> Self {
        Self {
            inner,
            core: RefCell::new(core),
            scratch: vec![0; SCRATCH_BYTES].into_boxed_slice(),
            staging: vec![0; STAGING_BYTES].into_boxed_slice(),
            staged: 0,
        }
    }
}

/// The reading half of a `TlsSocket`: decrypts what the transport delivers.
pub struct TlsReader<'a, R> {
    inner: R,
    core: &'a RefCell<Core>,
    scratch: &'a mut [u8],
}

/// The writing half of a `TlsSocket`: gathers plaintext, seals records.
pub struct TlsWriter<'a, W> {
    inner: W,
    core: &'a RefCell<Core>,
    staging: &'a mut [u8],
    staged: &'a mut usize,
}

impl<R: ErrorType> ErrorType for TlsReader<'_, R> {
    type Error = TlsError<R::Error>;
}

impl<W: ErrorType> ErrorType for TlsWriter<'_, W> {
    type Error = TlsError<W::Error>;
}

impl<R: Read> Read for TlsReader<'_, R> {
    async fn read(&mut self, buf: &mut [u8]) -> Result<usize, Self::Error> {
        if buf.is_empty() {
            return Ok(0);
        }
        loop {
            let free = {
                let mut core = self.core.borrow_mut();
                if let Some(n) = core.take_plaintext(buf) {
                    return Ok(n);
                }
                if core.peer_closed || core.transport_eof {
                    return Ok(0);
                }
                match core.step(Seal::Nothing).map_err(TlsError::Tls)? {
                    Step::Plaintext => continue,
                    Step::PeerClosed => return Ok(0),
                    Step::NeedInput | Step::Sealed => {}
                }
                if core.free_incoming() == 0 {
                    return Err(TlsError::Tls(core.fail(rustls::Error::PeerSentOversizedRecord)));
                }
                core.free_incoming()
            };
            let want = free.min(self.scratch.len());
            let n = self.inner.read(&mut self.scratch[..want]).await.map_err(TlsError::Io)?;
            let mut core = self.core.borrow_mut();
            if n == 0 {
                // End of stream without close_notify: a truncation, which
                // HTTP framing (Content-Length) detects; report end of data.
                core.transport_eof = true;
                return Ok(0);
            }
            core.push_incoming(&self.scratch[..n]);
        }
    }
}

impl<W: embedded_io_async::Write> TlsWriter<'_, W> {
    /// Seals the staged plaintext and sends it.
    async fn flush_staged(&mut self) -> Result<(), TlsError<W::Error>> {
        if *self.staged > 0 {
            self.core.borrow_mut().seal(&self.staging[..*self.staged])?;
            *self.staged = 0;
        }
        send_pending(self.core, &mut self.inner).await
    }
}

/// Sends everything in `out`. Records the reader queued meanwhile (key
/// updates) are newer and go out on the next call, so order is kept.
async fn send_pending<W: embedded_io_async::Write>(core: &RefCell<Core>, inner: &mut W) -> Result<(), TlsError<W::Error>> {
    let pending = core::mem::take(&mut core.borrow_mut().out);
    if pending.is_empty() {
        return Ok(());
    }
    inner.write_all(&pending).await.map_err(TlsError::Io)?;
    let mut core = core.borrow_mut();
    if core.out.is_empty() {
        // Keep the allocation for the next record.
        let mut reuse = pending;
        reuse.clear();
        core.out = reuse;
    }
    Ok(())
}

impl<W: embedded_io_async::Write> embedded_io_async::Write for TlsWriter<'_, W> {
    async fn write(&mut self, buf: &[u8]) -> Result<usize, Self::Error> {
        if buf.is_empty() {
            return Ok(0);
        }
        if *self.staged == 0 && buf.len() >= self.staging.len() {
            // Large writes are sealed straight from the caller's buffer.
            let n = buf.len().min(MAX_PLAINTEXT_RECORD);
            self.core.borrow_mut().seal(&buf[..n])?;
            send_pending(self.core, &mut self.inner).await?;
            return Ok(n);
        }
        if *self.staged == self.staging.len() {
            self.flush_staged().await?;
        }
        let n = (self.staging.len() - *self.staged).min(buf.len());
        self.staging[*self.staged..*self.staged + n].copy_from_slice(&buf[..n]);
        *self.staged += n;
        Ok(n)
    }

    async fn flush(&mut self) -> Result<(), Self::Error> {
        self.flush_staged().await?;
        self.inner.flush().await.map_err(TlsError::Io)
    }
}

impl<W: embedded_io_async::Write> Write for TlsWriter<'_, W> {
    async fn write_with<F: FnOnce(picoserve::mem::BorrowedCursor<'_>) -> T, T>(&mut self, f: F) -> Result<T, Self::Error> {
        if *self.staged == self.staging.len() {
            self.flush_staged().await?;
        }
        let mut buffer = BorrowedBuffer::new(&mut self.staging[*self.staged..]);
        let result = f(buffer.unfilled());
        *self.staged += buffer.len();
        Ok(result)
    }
}

impl<R, S: picoserve::io::Socket<R>> picoserve::io::Socket<R> for TlsSocket<S> {
    type Error = TlsError<S::Error>;
    type ReadHalf<'a>
        = TlsReader<'a, S::ReadHalf<'a>>
    where
        Self: 'a;
    type WriteHalf<'a>
        = TlsWriter<'a, S::WriteHalf<'a>>
    where
        Self: 'a;

    fn split(&mut self) -> (Self::ReadHalf<'_>, Self::WriteHalf<'_>) {
        let (reader, writer) = self.inner.split();
        (
            TlsReader { inner: reader, core: &self.core, scratch: &mut self.scratch },
            TlsWriter { inner: writer, core: &self.core, staging: &mut self.staging, staged: &mut self.staged },
        )
    }

    /// Sends what is already sealed (an alert, if rustls raised one), then
    /// aborts the transport.
    async fn abort<T: Timer<R>>(self, timeouts: &Timeouts, timer: &T) -> Result<(), picoserve::Error<Self::Error>> {
        let Self { mut inner, core, .. } = self;
        let core = core.into_inner();
        deliver(&mut inner, &core.out, timer).await;
        inner.abort(timeouts, timer).await.map_err(wrap_error)
    }

    /// Seals what is staged and a close_notify, sends them, then shuts the
    /// transport down gracefully.
    async fn shutdown<T: Timer<R>>(self, timeouts: &Timeouts, timer: &T) -> Result<(), picoserve::Error<Self::Error>> {
        let Self { mut inner, core, staging, staged, .. } = self;
        let mut core = core.into_inner();
        if staged > 0 && core.seal::<()>(&staging[..staged]).is_err() {
            core.out.clear();
        }
        core.close_notify();
        deliver(&mut inner, &core.out, timer).await;
        inner.shutdown(timeouts, timer).await.map_err(wrap_error)
    }
}

/// Best-effort delivery of final bytes, bounded by `CLOSING.write`.
pub(super) async fn deliver<R, S: picoserve::io::Socket<R>, T: Timer<R>>(socket: &mut S, bytes: &[u8], timer: &T) {
    if bytes.is_empty() {
        return;
    }
    let (_, mut tx) = socket.split();
    let _ = timer
        .run_with_timeout(CLOSING.write, async {
            tx.write_all(bytes).await?;
            tx.flush().await
        })
        .await;
}

/// Closes a transport the TLS layer gives up on: abort when the peer is
/// silent, graceful otherwise (so a final alert arrives before the FIN).
pub(super) async fn close<R, S: picoserve::io::Socket<R>, T: Timer<R>>(socket: S, timer: &T, graceful: bool) {
    if graceful {
        let _ = socket.shutdown(&CLOSING, timer).await;
    } else {
        let _ = socket.abort(&CLOSING, timer).await;
    }
}

fn wrap_error<E: embedded_io_async::Error>(error: picoserve::Error<E>) -> picoserve::Error<TlsError<E>> {
    match error {
        picoserve::Error::BadRequest => picoserve::Error::BadRequest,
        picoserve::Error::Read(error) => picoserve::Error::Read(TlsError::Io(error)),
        picoserve::Error::ReadTimeout(timeout) => picoserve::Error::ReadTimeout(timeout),
        picoserve::Error::Write(error) => picoserve::Error::Write(TlsError::Io(error)),
        picoserve::Error::WriteTimeout(timeout) => picoserve::Error::WriteTimeout(timeout),
    }
}
