//! `hwsim-link`: the radio medium of a Linux VM's mac80211_hwsim radios, carried over Ethernet.
//!
//! Registers with the kernel's MAC80211_HWSIM generic netlink family (as wmediumd does) and bridges
//! every frame the VM's radios transmit onto an Ethernet interface, wrapped as docs/wifi-rig.md
//! says, and frames from that interface into the radios, with real 802.11 ACKs, retries and
//! optional loss. Hand-written because Debian packages no wmediumd and this needs only a few
//! netlink messages: `libc` is the one dependency, so the binary links statically.
#![deny(unsafe_code)]

mod link;
mod medium;
mod netlink;
mod radios;
#[allow(unsafe_code)]
mod sys;

use std::path::Path;
use std::process::ExitCode;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use link::Mac;
use medium::{Action, Counters, Loss, Radio, Receive, StopAndWait};
use netlink::{Genl, Message};

const USAGE: &str =
    "usage: hwsim-link [--iface IFACE] [--drop PERCENT] [--seed N] [--wait-ack MS] [--verbose]
  --iface IFACE    Ethernet interface of the frame link (default eth1)
  --drop PERCENT   lose this share of unicast transmission attempts in each direction, 0-100
  --seed N         seed of the deterministic loss sequence (default 1)
  --wait-ack MS    report a unicast frame acked only when the far side's ACK arrives, retrying
                   after MS milliseconds without one (stop-and-wait, as radio hardware);
                   without it, frames are acked at once and lost attempts retried locally
  --verbose        log every frame to standard error
SIGUSR1 prints the frame counters; SIGTERM/SIGINT print them and exit.";

/// Command-line options.
struct Options {
    iface: String,
    drop: u8,
    seed: u64,
    wait_ack: Option<Duration>,
    verbose: bool,
}

fn parse_args(args: &[String]) -> Result<Options, String> {
    let mut opts = Options {
        iface: "eth1".into(),
        drop: 0,
        seed: 1,
        wait_ack: None,
        verbose: false,
    };
    let mut it = args.iter();
    while let Some(arg) = it.next() {
        let mut value = |name: &str| it.next().cloned().ok_or(format!("{name} needs a value"));
        match arg.as_str() {
            "--iface" => opts.iface = value("--iface")?,
            "--drop" => {
                let v = value("--drop")?;
                opts.drop = v
                    .parse()
                    .ok()
                    .filter(|p| *p <= 100)
                    .ok_or(format!("--drop: not a percentage: {v}"))?;
            }
            "--seed" => {
                let v = value("--seed")?;
                opts.seed = v
                    .parse()
                    .map_err(|_| format!("--seed: not a number: {v}"))?;
            }
            "--wait-ack" => {
                let v = value("--wait-ack")?;
                let ms: u64 = v
                    .parse()
                    .ok()
                    .filter(|ms| (1..=1000).contains(ms))
                    .ok_or(format!("--wait-ack: not 1-1000 ms: {v}"))?;
                opts.wait_ack = Some(Duration::from_millis(ms));
            }
            "--verbose" | "-v" => opts.verbose = true,
            "--help" | "-h" => return Err(String::new()),
            other => return Err(format!("unknown argument: {other}")),
        }
    }
    Ok(opts)
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let opts = match parse_args(&args) {
        Ok(opts) => opts,
        Err(msg) if msg.is_empty() => {
            println!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        Err(msg) => {
            eprintln!("hwsim-link: {msg}\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    match run(&opts) {
        Ok(()) => ExitCode::SUCCESS,
        Err(msg) => {
            eprintln!("hwsim-link: {msg}");
            ExitCode::FAILURE
        }
    }
}

/// The open sockets and state of one forwarder run.
struct Forwarder {
    nl: sys::Netlink,
    packet: sys::Packet,
    family: u16,
    seq: u32,
    mac: Mac,
    radios: Vec<Radio>,
    scanned: Instant,
    loss: Loss,
    count: Counters,
    stop_and_wait: Option<StopAndWait>,
    verbose: bool,
    start: Instant,
}

fn run(opts: &Options) -> Result<(), String> {
    let net = Path::new("/sys/class/net").join(&opts.iface);
    let mac = std::fs::read_to_string(net.join("address"))
        .ok()
        .and_then(|t| link::parse_mac(&t))
        .ok_or(format!(
            "no interface {} (or no MAC address in {})",
            opts.iface,
            net.display()
        ))?;
    let packet =
        sys::Packet::open(&opts.iface).map_err(|e| format!("cannot open {}: {e}", opts.iface))?;
    if let Some(mtu) = std::fs::read_to_string(net.join("mtu"))
        .ok()
        .and_then(|t| t.trim().parse::<usize>().ok())
    {
        if mtu < link::LINK_MTU {
            eprintln!(
                "hwsim-link: warning: {} MTU is {mtu}, the link needs {}",
                opts.iface,
                link::LINK_MTU
            );
        }
    }
    let nl =
        sys::Netlink::open().map_err(|e| format!("cannot open a generic netlink socket: {e}"))?;
    let family = resolve_family(&nl)?;
    let mut fwd = Forwarder {
        nl,
        packet,
        family,
        seq: 2,
        mac,
        radios: radios::scan(Path::new("/sys")),
        scanned: Instant::now(),
        loss: Loss::new(opts.drop, opts.seed),
        count: Counters::default(),
        stop_and_wait: opts.wait_ack.map(StopAndWait::new),
        verbose: opts.verbose,
        start: Instant::now(),
    };
    fwd.register()?;
    sys::install_signal_handlers();
    let ids: Vec<String> = fwd.radios.iter().map(|r| link::fmt_mac(&r.id)).collect();
    let acks = match opts.wait_ack {
        Some(t) => format!("waits {} ms for ACKs", t.as_millis()),
        None => "acks at once".into(),
    };
    eprintln!(
        "hwsim-link: listening: medium of {} radio(s) [{}] on {} ({}), drop {}%, {acks}",
        fwd.radios.len(),
        ids.join(" "),
        opts.iface,
        link::fmt_mac(&mac),
        opts.drop
    );
    fwd.serve()
}

/// Waits up to 2 s for one netlink datagram (the answer to a set-up request).
fn recv_reply(nl: &sys::Netlink, buf: &mut [u8]) -> Result<usize, String> {
    let ready = sys::poll(&[nl.fd()], 2000).map_err(|e| format!("poll: {e}"))?;
    if !ready.first().copied().unwrap_or(false) {
        return Err("the kernel did not answer on generic netlink within 2 s".into());
    }
    nl.recv(buf).map_err(|e| format!("netlink receive: {e}"))
}

fn resolve_family(nl: &sys::Netlink) -> Result<u16, String> {
    nl.send(&netlink::get_family(1, netlink::HWSIM_FAMILY))
        .map_err(|e| format!("netlink send: {e}"))?;
    let mut buf = vec![0u8; 16384];
    let n = recv_reply(nl, &mut buf)?;
    let msgs = netlink::messages(&buf[..n]).map_err(|e| format!("bad controller reply: {e:?}"))?;
    for msg in &msgs {
        if msg.kind == netlink::NLMSG_ERROR && netlink::error_code(msg).unwrap_or(-1) != 0 {
            return Err(format!(
                "no {} netlink family: is mac80211_hwsim loaded?",
                netlink::HWSIM_FAMILY
            ));
        }
        if msg.kind == netlink::GENL_ID_CTRL {
            if let Some(id) = netlink::genl(msg.payload)
                .ok()
                .as_ref()
                .and_then(netlink::family_id)
            {
                return Ok(id);
            }
        }
    }
    Err("the controller's reply has no family id".into())
}

impl Forwarder {
    fn register(&mut self) -> Result<(), String> {
        self.nl
            .send(&netlink::register(self.family, 2))
            .map_err(|e| format!("netlink send: {e}"))?;
        let mut buf = vec![0u8; 16384];
        let n = recv_reply(&self.nl, &mut buf)?;
        let msgs =
            netlink::messages(&buf[..n]).map_err(|e| format!("bad register reply: {e:?}"))?;
        match msgs
            .iter()
            .find(|m| m.kind == netlink::NLMSG_ERROR)
            .map(netlink::error_code)
        {
            Some(Ok(0)) => Ok(()),
            Some(Ok(code)) if code == -libc::EBUSY => Err(
                "another medium (wmediumd or hwsim-link) is already registered in this namespace"
                    .into(),
            ),
            Some(Ok(code)) => Err(format!(
                "HWSIM_CMD_REGISTER failed: {}",
                std::io::Error::from_raw_os_error(-code)
            )),
            _ => Err("HWSIM_CMD_REGISTER: no acknowledgement from the kernel".into()),
        }
    }

    fn serve(&mut self) -> Result<(), String> {
        let mut nl_buf = vec![0u8; 65536];
        let mut eth_buf = vec![0u8; 65536];
        while !sys::STOP.load(Ordering::Relaxed) {
            if sys::REPORT.swap(false, Ordering::Relaxed) {
                eprintln!("hwsim-link: {}", self.count);
            }
            let wait = self
                .stop_and_wait
                .as_ref()
                .and_then(StopAndWait::deadline)
                .map_or(1000, |d| {
                    d.saturating_duration_since(Instant::now())
                        .as_millis()
                        .clamp(0, 1000) as i32
                });
            let ready = sys::poll(&[self.nl.fd(), self.packet.fd()], wait)
                .map_err(|e| format!("poll: {e}"))?;
            if ready.first().copied().unwrap_or(false) {
                match self.nl.recv(&mut nl_buf) {
                    Ok(n) => self.on_kernel_datagram(&nl_buf[..n]),
                    Err(e) if e.raw_os_error() == Some(libc::ENOBUFS) => self.count.overruns += 1,
                    Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                    Err(e) => return Err(format!("netlink receive: {e}")),
                }
            }
            if ready.get(1).copied().unwrap_or(false) {
                match self.packet.recv(&mut eth_buf) {
                    Ok(Some(n)) => self.on_link_frame(n, &eth_buf),
                    Ok(None) => {}
                    Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                    Err(e) => return Err(format!("link receive: {e}")),
                }
            }
            if let Some(radio) = self.stop_and_wait.as_mut() {
                let actions = radio.on_tick(Instant::now(), &mut self.loss, &mut self.count);
                self.apply(actions);
            }
            if self.scanned.elapsed() > Duration::from_secs(1) {
                self.rescan();
            }
        }
        eprintln!("hwsim-link: stopped: {}", self.count);
        Ok(())
    }

    fn on_kernel_datagram(&mut self, datagram: &[u8]) {
        let Ok(msgs) = netlink::messages(datagram) else {
            self.count.bad_netlink += 1;
            return;
        };
        for msg in msgs {
            self.kernel_message(&msg);
        }
    }

    fn kernel_message(&mut self, msg: &Message<'_>) {
        if msg.kind == netlink::NLMSG_ERROR {
            let code = netlink::error_code(msg).unwrap_or(-1);
            if code != 0 {
                self.count.kernel_errors += 1;
                self.log(format_args!(
                    "kernel answered seq {} with error {code}",
                    msg.seq
                ));
            }
            return;
        }
        if msg.kind != self.family {
            return;
        }
        let parsed = netlink::genl(msg.payload);
        let Some(tx) = parsed
            .as_ref()
            .ok()
            .filter(|g: &&Genl<'_>| g.cmd == netlink::HWSIM_CMD_FRAME)
            .map(netlink::tx_frame)
        else {
            self.count.bad_netlink += 1;
            let cmd = parsed.as_ref().map(|g| g.cmd);
            self.log(format_args!("family message that is not a FRAME: {cmd:?}"));
            return;
        };
        let tx = match tx {
            Ok(tx) => tx,
            Err(e) => {
                self.count.bad_netlink += 1;
                self.log(format_args!("unusable FRAME from the kernel: {e:?}"));
                return;
            }
        };
        if let Some(radio) = self.stop_and_wait.as_mut() {
            let actions = radio.push(tx, Instant::now(), &mut self.loss, &mut self.count);
            self.apply(actions);
            return;
        }
        let fate = medium::on_transmit(&tx.frame, medium::attempts(&tx.tx_info), &mut self.loss);
        self.count.lost_tx += u64::from(fate.lost);
        let freq = medium::freq_of(&tx);
        if fate.send {
            self.send_on_link(freq, &tx.frame);
        }
        self.log_frame(
            "tx",
            freq,
            &tx.frame,
            if fate.send { "-> link" } else { "lost" },
        );
        self.report(&tx, fate.acked);
    }

    /// Carries out what the stop-and-wait radio decided.
    fn apply(&mut self, actions: Vec<Action>) {
        for action in actions {
            match action {
                Action::Send { freq, frame } => {
                    self.send_on_link(freq, &frame);
                    self.log_frame("tx", freq, &frame, "-> link");
                }
                Action::Status { tx, acked } => self.report(&tx, acked),
            }
        }
    }

    /// Tells hwsim how a transmitted frame fared.
    fn report(&mut self, tx: &netlink::TxFrame, acked: bool) {
        let status = netlink::tx_info_frame(self.family, self.next_seq(), tx, acked);
        if self.nl.send(&status).is_err() {
            self.count.send_errors += 1;
        }
    }

    fn on_link_frame(&mut self, n: usize, buf: &[u8]) {
        let Some(eth) = buf.get(..n) else { return };
        let wrapped = match link::decode(eth) {
            Ok(w) => w,
            Err(e) => {
                self.count.bad_link += 1;
                self.log(format_args!("bad link frame ({n} B): {e:?}"));
                return;
            }
        };
        let mut fate = medium::on_receive(wrapped.frame, &self.radios, &mut self.loss);
        if fate == Receive::NotOurs && self.scanned.elapsed() > Duration::from_millis(100) {
            self.rescan();
            fate = medium::on_receive(wrapped.frame, &self.radios, &mut self.loss);
        }
        let note = match &fate {
            Receive::Ack => {
                self.count.acks_received += 1;
                if let (Some(radio), Some(ra)) =
                    (self.stop_and_wait.as_mut(), link::addr1(wrapped.frame))
                {
                    let actions = radio.on_ack(ra, Instant::now(), &mut self.loss, &mut self.count);
                    self.apply(actions);
                }
                "ack"
            }
            Receive::Lost => {
                self.count.lost_rx += 1;
                "lost"
            }
            Receive::NotOurs => {
                self.count.not_ours += 1;
                "not ours"
            }
            Receive::Runt => {
                self.count.bad_link += 1;
                "runt"
            }
            Receive::Deliver { radios, ack_to } => {
                for radio in radios {
                    let msg = netlink::inject(
                        self.family,
                        self.next_seq(),
                        radio,
                        wrapped.frame,
                        wrapped.freq,
                    );
                    match self.nl.send(&msg) {
                        Ok(()) => self.count.injected += 1,
                        Err(_) => self.count.send_errors += 1,
                    }
                }
                if let Some(ra) = ack_to {
                    self.send_on_link(wrapped.freq, &link::ack_frame(*ra));
                    self.count.acks_sent += 1;
                    "-> radio, acked"
                } else {
                    "-> radios"
                }
            }
        };
        self.log_frame("rx", wrapped.freq, wrapped.frame, note);
    }

    fn send_on_link(&mut self, freq: u16, frame: &[u8]) {
        match link::encode(self.mac, freq, frame) {
            Ok(eth) if self.packet.send(&eth).is_ok() => self.count.to_link += 1,
            _ => self.count.send_errors += 1,
        }
    }

    fn rescan(&mut self) {
        self.radios = radios::scan(Path::new("/sys"));
        self.scanned = Instant::now();
    }

    fn next_seq(&mut self) -> u32 {
        self.seq = self.seq.wrapping_add(1);
        self.seq
    }

    fn log(&self, what: std::fmt::Arguments<'_>) {
        if self.verbose {
            eprintln!(
                "{:10.3} {what}",
                self.start.elapsed().as_secs_f64() * 1000.0
            );
        }
    }

    fn log_frame(&self, dir: &str, freq: u16, frame: &[u8], note: &str) {
        if self.verbose {
            let a1 = link::addr1(frame)
                .map(|m| link::fmt_mac(&m))
                .unwrap_or_else(|| "-".into());
            let a2 = link::addr2(frame)
                .map(|m| link::fmt_mac(&m))
                .unwrap_or_else(|| "-".into());
            let kind = link::kind(frame);
            self.log(format_args!(
                "{dir} {freq} {kind:<10} {:>5} B a1={a1} a2={a2} {note}",
                frame.len()
            ));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn options_parse_drop_seed_iface_verbose() {
        let o = parse_args(&args(&[
            "--iface",
            "eth2",
            "--drop",
            "20",
            "--seed",
            "7",
            "--verbose",
        ]))
        .unwrap();
        assert_eq!(
            (o.iface.as_str(), o.drop, o.seed, o.verbose),
            ("eth2", 20, 7, true)
        );
        let d = parse_args(&[]).unwrap();
        assert_eq!(
            (d.iface.as_str(), d.drop, d.seed, d.verbose),
            ("eth1", 0, 1, false)
        );
    }

    #[test]
    fn bad_options_are_errors_not_panics() {
        assert!(parse_args(&args(&["--drop", "101"])).is_err());
        assert!(parse_args(&args(&["--drop", "x"])).is_err());
        assert!(parse_args(&args(&["--drop"])).is_err());
        assert!(parse_args(&args(&["--seed", "-1"])).is_err());
        assert!(parse_args(&args(&["--frobnicate"])).is_err());
        assert!(parse_args(&args(&["--wait-ack", "0"])).is_err());
        assert_eq!(
            parse_args(&args(&["--wait-ack", "20"])).unwrap().wait_ack,
            Some(Duration::from_millis(20))
        );
    }
}
