//! An in-memory duplex byte pipe with async reads and writes: two `Pipe`
//! ends, each reading what the other writes.
//!
//! It connects a TLS client and server without a network: the host tests
//! use it, and the kernel can use it for the boot self-test (the client end
//! to `self_test`, the server end to `TlsServer::accept` and the HTTP
//! router). Each direction holds at most `capacity` bytes; a writer waits
//! for room, a reader for data, both woken by the other side. Dropping,
//! shutting down or aborting an end closes both directions: the peer reads
//! end-of-stream and its writes fail.

use alloc::collections::VecDeque;
use alloc::rc::Rc;
use core::cell::RefCell;
use core::future::poll_fn;
use core::task::{Poll, Waker};

use picoserve::io::{embedded_io_async, ErrorType, Read, Write};
use picoserve::mem::BorrowedBuffer;

/// The peer end is gone.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PipeClosed;

impl core::fmt::Display for PipeClosed {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("pipe closed")
    }
}

impl core::error::Error for PipeClosed {}

impl embedded_io_async::Error for PipeClosed {
    fn kind(&self) -> embedded_io_async::ErrorKind {
        embedded_io_async::ErrorKind::BrokenPipe
    }
}

/// One direction of the pipe.
struct Channel {
    bytes: VecDeque<u8>,
    capacity: usize,
    reader: Option<Waker>,
    writer: Option<Waker>,
    /// The writing end closed: the reader gets end-of-stream once drained.
    write_closed: bool,
    /// The reading end closed: writes fail.
    read_closed: bool,
}

impl Channel {
    fn new(capacity: usize) -> Self {
        Self { bytes: VecDeque::with_capacity(capacity), capacity, reader: None, writer: None, write_closed: false, read_closed: false }
    }

    fn wake_all(&mut self) {
        if let Some(waker) = self.reader.take() {
            waker.wake();
        }
        if let Some(waker) = self.writer.take() {
            waker.wake();
        }
    }
}

/// One end of an in-memory duplex pipe (see `duplex`).
pub struct Pipe {
    channels: Rc<[RefCell<Channel>; 2]>,
    /// This end reads `channels[side]` and writes `channels[1 - side]`.
    side: usize,
}

/// A connected pair of pipe ends, each direction buffering up to `capacity` bytes.
pub fn duplex(capacity: usize) -> (Pipe, Pipe) {
    let capacity = capacity.max(1);
    let channels = Rc::new([RefCell::new(Channel::new(capacity)), RefCell::new(Channel::new(capacity))]);
    (Pipe { channels: channels.clone(), side: 0 }, Pipe { channels, side: 1 })
}

impl Pipe {
    fn incoming(&self) -> &RefCell<Channel> {
        &self.channels[self.side]
    }

    fn outgoing(&self) -> &RefCell<Channel> {
        &self.channels[1 - self.side]
    }

    /// Closes this end: the peer reads end-of-stream after what is buffered,
    /// and its writes fail.
    pub fn close(&self) {
        let mut outgoing = self.outgoing().borrow_mut();
        outgoing.write_closed = true;
        outgoing.wake_all();
        drop(outgoing);
        let mut incoming = self.incoming().borrow_mut();
        incoming.read_closed = true;
        incoming.bytes.clear();
        incoming.wake_all();
    }

    async fn read_bytes(&self, buf: &mut [u8]) -> Result<usize, PipeClosed> {
        if buf.is_empty() {
            return Ok(0);
        }
        poll_fn(|cx| {
            let mut channel = self.incoming().borrow_mut();
            if !channel.bytes.is_empty() {
                let n = channel.bytes.len().min(buf.len());
                for (slot, byte) in buf.iter_mut().zip(channel.bytes.drain(..n)) {
                    *slot = byte;
                }
                if let Some(waker) = channel.writer.take() {
                    waker.wake();
                }
                Poll::Ready(Ok(n))
            } else if channel.write_closed || channel.read_closed {
                Poll::Ready(Ok(0))
            } else {
                channel.reader = Some(cx.waker().clone());
                Poll::Pending
            }
        })
        .await
    }

    /// Waits for room, then lets `fill` write into at most `room` bytes.
    async fn write_bytes<T>(&self, fill: impl FnOnce(&mut [u8]) -> (usize, T)) -> Result<T, PipeClosed> {
        let room = poll_fn(|cx| {
            let mut channel = self.outgoing().borrow_mut();
            if channel.read_closed || channel.write_closed {
                Poll::Ready(Err(PipeClosed))
            } else if channel.bytes.len() < channel.capacity {
                Poll::Ready(Ok(channel.capacity - channel.bytes.len()))
            } else {
                channel.writer = Some(cx.waker().clone());
                Poll::Pending
            }
        })
        .await?;
        let mut staging = [0u8; 512];
        let room = room.min(staging.len());
        let (written, result) = fill(&mut staging[..room]);
        let mut channel = self.outgoing().borrow_mut();
        channel.bytes.extend(&staging[..written.min(room)]);
        if let Some(waker) = channel.reader.take() {
            waker.wake();
        }
        Ok(result)
    }
}

impl Drop for Pipe {
    fn drop(&mut self) {
        self.close();
    }
}

impl ErrorType for Pipe {
    type Error = PipeClosed;
}

impl Read for Pipe {
    async fn read(&mut self, buf: &mut [u8]) -> Result<usize, PipeClosed> {
        self.read_bytes(buf).await
    }
}

impl embedded_io_async::Write for Pipe {
    async fn write(&mut self, buf: &[u8]) -> Result<usize, PipeClosed> {
        if buf.is_empty() {
            return Ok(0);
        }
        self.write_bytes(|space| {
            let n = space.len().min(buf.len());
            space[..n].copy_from_slice(&buf[..n]);
            (n, n)
        })
        .await
    }

    async fn flush(&mut self) -> Result<(), PipeClosed> {
        Ok(())
    }
}

/// Reading half of a `Pipe` used as a picoserve socket.
pub struct PipeReader<'a>(&'a Pipe);
/// Writing half of a `Pipe` used as a picoserve socket.
pub struct PipeWriter<'a>(&'a Pipe);

impl ErrorType for PipeReader<'_> {
    type Error = PipeClosed;
}

impl ErrorType for PipeWriter<'_> {
    type Error = PipeClosed;
}

impl Read for PipeReader<'_> {
    async fn read(&mut self, buf: &mut [u8]) -> Result<usize, PipeClosed> {
        self.0.read_bytes(buf).await
    }
}

impl embedded_io_async::Write for PipeWriter<'_> {
    async fn write(&mut self, buf: &[u8]) -> Result<usize, PipeClosed> {
        if buf.is_empty() {
            return Ok(0);
        }
        self.0
            .write_bytes(|space| {
                let n = space.len().min(buf.len());
                space[..n].copy_from_slice(&buf[..n]);
                (n, n)
            })
            .await
    }

    async fn flush(&mut self) -> Result<(), PipeClosed> {
        Ok(())
    }
}

impl Write for PipeWriter<'_> {
    async fn write_with<F: FnOnce(picoserve::mem::BorrowedCursor<'_>) -> T, T>(&mut self, f: F) -> Result<T, PipeClosed> {
        self.0
            .write_bytes(|space| {
                let mut buffer = BorrowedBuffer::new(space);
                let result = f(buffer.unfilled());
                (buffer.len(), result)
            })
            .await
    }
}

/// Any runtime can serve over a pipe: closing is immediate.
impl<R> picoserve::io::Socket<R> for Pipe {
    type Error = PipeClosed;
    type ReadHalf<'a> = PipeReader<'a>;
    type WriteHalf<'a> = PipeWriter<'a>;

    fn split(&mut self) -> (PipeReader<'_>, PipeWriter<'_>) {
        (PipeReader(self), PipeWriter(self))
    }

    async fn abort<T: picoserve::Timer<R>>(self, _timeouts: &picoserve::Timeouts, _timer: &T) -> Result<(), picoserve::Error<PipeClosed>> {
        self.close();
        Ok(())
    }

    async fn shutdown<T: picoserve::Timer<R>>(self, _timeouts: &picoserve::Timeouts, _timer: &T) -> Result<(), picoserve::Error<PipeClosed>> {
        self.close();
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::services::tls::tests::run;

    #[test]
    fn bytes_cross_in_order_through_a_small_pipe() {
        let (mut a, mut b) = duplex(7);
        let message: alloc::vec::Vec<u8> = (0..200u8).collect();
        let sent = message.clone();
        let (_, received) = run(
            async move {
                embedded_io_async::Write::write_all(&mut a, &sent).await.unwrap();
                drop(a);
            },
            async move {
                let mut received = alloc::vec::Vec::new();
                let mut buf = [0u8; 13];
                loop {
                    let n = b.read(&mut buf).await.unwrap();
                    if n == 0 {
                        break received;
                    }
                    received.extend_from_slice(&buf[..n]);
                }
            },
        );
        assert_eq!(received, message);
    }

    #[test]
    fn writing_to_a_closed_peer_fails() {
        let (mut a, b) = duplex(16);
        drop(b);
        let (result, ()) = run(async move { embedded_io_async::Write::write(&mut a, b"x").await }, async {});
        assert_eq!(result, Err(PipeClosed));
    }
}
