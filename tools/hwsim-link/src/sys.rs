//! The system calls the forwarder needs, behind safe wrappers: a generic netlink socket, an
//! AF_PACKET socket bound to one interface, poll, and signal flags.
//!
//! Written against `libc` directly: the std library has no netlink or packet sockets, and the
//! few calls needed do not justify a netlink crate (and its dependencies) in a static binary.

use std::ffi::CString;
use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::sync::atomic::{AtomicBool, Ordering};

use crate::link::ETHERTYPE;

/// A generic netlink socket talking to the kernel.
pub struct Netlink {
    fd: OwnedFd,
}

impl Netlink {
    /// Opens and binds a NETLINK_GENERIC socket with a large receive buffer (frames come in bursts).
    pub fn open() -> io::Result<Self> {
        // SAFETY: plain socket(2) call; the result is checked before use.
        let fd = unsafe {
            libc::socket(
                libc::AF_NETLINK,
                libc::SOCK_RAW | libc::SOCK_CLOEXEC,
                libc::NETLINK_GENERIC,
            )
        };
        let fd = owned(fd)?;
        // SAFETY: an all-zero sockaddr_nl is valid (pid 0: the kernel picks our port id).
        let mut addr: libc::sockaddr_nl = unsafe { std::mem::zeroed() };
        addr.nl_family = libc::AF_NETLINK as libc::sa_family_t;
        // SAFETY: addr is a valid sockaddr_nl and its size is passed.
        let rc = unsafe {
            libc::bind(
                fd.as_raw_fd(),
                (&addr as *const libc::sockaddr_nl).cast(),
                size_of_val(&addr) as libc::socklen_t,
            )
        };
        check(rc)?;
        set_rcvbuf(fd.as_raw_fd(), 4 << 20);
        Ok(Netlink { fd })
    }

    /// Sends one message to the kernel.
    pub fn send(&self, msg: &[u8]) -> io::Result<()> {
        send(self.fd.as_raw_fd(), msg)
    }

    /// Receives one datagram (one or more netlink messages).
    pub fn recv(&self, buf: &mut [u8]) -> io::Result<usize> {
        // SAFETY: buf is valid for buf.len() bytes of writes.
        let n = unsafe { libc::recv(self.fd.as_raw_fd(), buf.as_mut_ptr().cast(), buf.len(), 0) };
        usize::try_from(n).map_err(|_| io::Error::last_os_error())
    }

    /// For poll.
    pub fn fd(&self) -> RawFd {
        self.fd.as_raw_fd()
    }
}

/// A raw packet socket on one interface, receiving only our ethertype.
pub struct Packet {
    fd: OwnedFd,
}

impl Packet {
    /// Binds to `ifname` for ethertype 0x88B5.
    pub fn open(ifname: &str) -> io::Result<Self> {
        let name =
            CString::new(ifname).map_err(|_| io::Error::from(io::ErrorKind::InvalidInput))?;
        // SAFETY: name is a valid NUL-terminated string.
        let index = unsafe { libc::if_nametoindex(name.as_ptr()) };
        if index == 0 {
            return Err(io::Error::last_os_error());
        }
        let proto = ETHERTYPE.to_be();
        // SAFETY: plain socket(2) call; the result is checked before use.
        let fd = unsafe {
            libc::socket(
                libc::AF_PACKET,
                libc::SOCK_RAW | libc::SOCK_CLOEXEC,
                i32::from(proto),
            )
        };
        let fd = owned(fd)?;
        // SAFETY: an all-zero sockaddr_ll is valid; the fields bind() reads are set below.
        let mut addr: libc::sockaddr_ll = unsafe { std::mem::zeroed() };
        addr.sll_family = libc::AF_PACKET as u16;
        addr.sll_protocol = proto;
        addr.sll_ifindex = index as i32;
        // SAFETY: addr is a valid sockaddr_ll and its size is passed.
        let rc = unsafe {
            libc::bind(
                fd.as_raw_fd(),
                (&addr as *const libc::sockaddr_ll).cast(),
                size_of_val(&addr) as libc::socklen_t,
            )
        };
        check(rc)?;
        set_rcvbuf(fd.as_raw_fd(), 4 << 20);
        Ok(Packet { fd })
    }

    /// Sends one Ethernet frame on the bound interface.
    pub fn send(&self, frame: &[u8]) -> io::Result<()> {
        send(self.fd.as_raw_fd(), frame)
    }

    /// Receives one Ethernet frame that arrived from the wire (not one we sent).
    pub fn recv(&self, buf: &mut [u8]) -> io::Result<Option<usize>> {
        // SAFETY: an all-zero sockaddr_ll is valid for recvfrom to fill.
        let mut from: libc::sockaddr_ll = unsafe { std::mem::zeroed() };
        let mut len = size_of_val(&from) as libc::socklen_t;
        // SAFETY: buf and from are valid for writes of the sizes passed.
        let n = unsafe {
            libc::recvfrom(
                self.fd.as_raw_fd(),
                buf.as_mut_ptr().cast(),
                buf.len(),
                0,
                (&mut from as *mut libc::sockaddr_ll).cast(),
                &mut len,
            )
        };
        let n = usize::try_from(n).map_err(|_| io::Error::last_os_error())?;
        Ok((from.sll_pkttype != libc::PACKET_OUTGOING).then_some(n))
    }

    /// For poll.
    pub fn fd(&self) -> RawFd {
        self.fd.as_raw_fd()
    }
}

/// Waits up to `timeout_ms` for input on `fds`; returns which are readable. EINTR counts as none.
pub fn poll(fds: &[RawFd], timeout_ms: i32) -> io::Result<Vec<bool>> {
    let mut pfds: Vec<libc::pollfd> = fds
        .iter()
        .map(|&fd| libc::pollfd {
            fd,
            events: libc::POLLIN,
            revents: 0,
        })
        .collect();
    // SAFETY: pfds is a valid array of pfds.len() pollfd structs.
    let rc = unsafe { libc::poll(pfds.as_mut_ptr(), pfds.len() as libc::nfds_t, timeout_ms) };
    if rc < 0 {
        let err = io::Error::last_os_error();
        return if err.kind() == io::ErrorKind::Interrupted {
            Ok(vec![false; fds.len()])
        } else {
            Err(err)
        };
    }
    Ok(pfds
        .iter()
        .map(|p| p.revents & (libc::POLLIN | libc::POLLERR) != 0)
        .collect())
}

/// Set by SIGTERM/SIGINT: print the counters and exit.
pub static STOP: AtomicBool = AtomicBool::new(false);
/// Set by SIGUSR1: print the counters and go on.
pub static REPORT: AtomicBool = AtomicBool::new(false);

extern "C" fn on_signal(sig: libc::c_int) {
    if sig == libc::SIGUSR1 {
        REPORT.store(true, Ordering::Relaxed);
    } else {
        STOP.store(true, Ordering::Relaxed);
    }
}

/// Installs the handlers behind STOP and REPORT (without SA_RESTART, so poll wakes up).
pub fn install_signal_handlers() {
    for sig in [libc::SIGTERM, libc::SIGINT, libc::SIGUSR1] {
        // SAFETY: an all-zero sigaction is valid; the handler only stores to atomics
        // (async-signal-safe).
        unsafe {
            let mut action: libc::sigaction = std::mem::zeroed();
            action.sa_sigaction = on_signal as extern "C" fn(libc::c_int) as libc::sighandler_t;
            libc::sigaction(sig, &action, std::ptr::null_mut());
        }
    }
}

fn send(fd: RawFd, msg: &[u8]) -> io::Result<()> {
    // SAFETY: msg is valid for msg.len() bytes of reads.
    let n = unsafe { libc::send(fd, msg.as_ptr().cast(), msg.len(), 0) };
    if n < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

fn set_rcvbuf(fd: RawFd, bytes: libc::c_int) {
    for opt in [libc::SO_RCVBUFFORCE, libc::SO_RCVBUF] {
        // SAFETY: bytes is a valid c_int and its size is passed.
        let rc = unsafe {
            libc::setsockopt(
                fd,
                libc::SOL_SOCKET,
                opt,
                (&bytes as *const libc::c_int).cast(),
                size_of_val(&bytes) as libc::socklen_t,
            )
        };
        if rc == 0 {
            return;
        }
    }
}

fn owned(fd: RawFd) -> io::Result<OwnedFd> {
    if fd < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: fd was just returned by socket(2) and nothing else owns it.
    Ok(unsafe { OwnedFd::from_raw_fd(fd) })
}

fn check(rc: libc::c_int) -> io::Result<()> {
    if rc < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(())
    }
}
