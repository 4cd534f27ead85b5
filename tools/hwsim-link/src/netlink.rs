//! Generic netlink messages of the `MAC80211_HWSIM` family: building and checked parsing.
//!
//! Message layout is the kernel's (`netlink.h`, `genetlink.h`): nlmsghdr (16 bytes, native
//! endian), genlmsghdr (cmd, version, reserved), then 4-byte aligned attributes. Command and
//! attribute numbers come from `drivers/net/wireless/virtual/mac80211_hwsim.h`. Only the handful
//! the medium uses are here; anything the kernel sends is parsed with bounds checks.

/// Netlink control messages.
pub const NLMSG_ERROR: u16 = 2;
/// The generic netlink controller, which maps family names to ids.
pub const GENL_ID_CTRL: u16 = 0x10;
const CTRL_CMD_GETFAMILY: u8 = 3;
const CTRL_ATTR_FAMILY_ID: u16 = 1;
const CTRL_ATTR_FAMILY_NAME: u16 = 2;
const NLM_F_REQUEST: u16 = 1;
const NLM_F_ACK: u16 = 4;
/// Flag bits of `nla_type` (nested, net byte order), not part of the type number.
const NLA_TYPE_MASK: u16 = 0x3fff;

/// The family hwsim registers; its id is assigned at load time.
pub const HWSIM_FAMILY: &str = "MAC80211_HWSIM";
const HWSIM_VERSION: u8 = 1;
/// Makes the sender the medium of its network namespace.
pub const HWSIM_CMD_REGISTER: u8 = 1;
/// A frame a radio transmits (kernel → us) or one to inject (us → kernel).
pub const HWSIM_CMD_FRAME: u8 = 2;
/// Transmit status of a FRAME the kernel handed us.
pub const HWSIM_CMD_TX_INFO_FRAME: u8 = 3;
const ATTR_ADDR_RECEIVER: u16 = 1;
const ATTR_ADDR_TRANSMITTER: u16 = 2;
const ATTR_FRAME: u16 = 3;
const ATTR_FLAGS: u16 = 4;
const ATTR_RX_RATE: u16 = 5;
const ATTR_SIGNAL: u16 = 6;
const ATTR_TX_INFO: u16 = 7;
const ATTR_COOKIE: u16 = 8;
const ATTR_FREQ: u16 = 19;
/// "The frame was acknowledged": without it mac80211 counts the frame as lost and retries.
pub const HWSIM_TX_STAT_ACK: u32 = 1 << 2;
/// Signal strength reported for every frame, in dBm: a phone a few metres from the access point.
const SIGNAL_DBM: i32 = -50;

/// Why a netlink message from the kernel could not be used.
#[derive(Debug, PartialEq, Eq, Clone, Copy)]
pub enum ParseError {
    /// A header or attribute runs past the end of the buffer.
    Truncated,
    /// A FRAME lacks an attribute the medium needs, or it has the wrong size.
    MissingAttribute(u16),
}

/// One netlink message inside a received datagram.
#[derive(Debug, PartialEq, Eq)]
pub struct Message<'a> {
    /// NLMSG_ERROR, NLMSG_DONE or a family id.
    pub kind: u16,
    /// Echo of the request's sequence number (for acks and errors).
    pub seq: u32,
    /// Everything after the 16-byte header.
    pub payload: &'a [u8],
}

/// Splits a datagram into its netlink messages.
pub fn messages(mut buf: &[u8]) -> Result<Vec<Message<'_>>, ParseError> {
    let mut out = Vec::new();
    while buf.len() >= 16 {
        let len = u32::from_ne_bytes(field(buf, 0)?) as usize;
        let msg = buf.get(16..len).ok_or(ParseError::Truncated)?;
        out.push(Message {
            kind: u16::from_ne_bytes(field(buf, 4)?),
            seq: u32::from_ne_bytes(field(buf, 8)?),
            payload: msg,
        });
        buf = buf.get(align4(len)..).unwrap_or(&[]);
    }
    Ok(out)
}

/// The errno of an NLMSG_ERROR (0 for an ack).
pub fn error_code(msg: &Message<'_>) -> Result<i32, ParseError> {
    Ok(i32::from_ne_bytes(field(msg.payload, 0)?))
}

/// A generic netlink payload: command and its attributes.
#[derive(Debug, PartialEq, Eq)]
pub struct Genl<'a> {
    /// The family's command number.
    pub cmd: u8,
    /// The attributes as `(type, value)`, in order.
    pub attrs: Vec<(u16, &'a [u8])>,
}

/// Parses a generic netlink message's payload.
pub fn genl(payload: &[u8]) -> Result<Genl<'_>, ParseError> {
    let cmd = *payload.first().ok_or(ParseError::Truncated)?;
    let mut rest = payload.get(4..).ok_or(ParseError::Truncated)?;
    let mut attrs = Vec::new();
    while rest.len() >= 4 {
        let len = usize::from(u16::from_ne_bytes(field(rest, 0)?));
        let kind = u16::from_ne_bytes(field(rest, 2)?) & NLA_TYPE_MASK;
        let value = rest.get(4..len).ok_or(ParseError::Truncated)?;
        attrs.push((kind, value));
        rest = rest.get(align4(len)..).unwrap_or(&[]);
    }
    Ok(Genl { cmd, attrs })
}

/// The family id in a CTRL_CMD_GETFAMILY reply.
pub fn family_id(reply: &Genl<'_>) -> Option<u16> {
    let value = attr(reply, CTRL_ATTR_FAMILY_ID)?;
    Some(u16::from_ne_bytes(value.get(..2)?.try_into().ok()?))
}

/// A frame one of the VM's radios transmitted, as hwsim hands it to the medium.
#[derive(Debug, PartialEq, Eq, Clone)]
pub struct TxFrame {
    /// The radio's netlink id (its second address, 42:00:00:00:XX:00).
    pub transmitter: [u8; 6],
    /// The 802.11 frame without FCS.
    pub frame: Vec<u8>,
    /// HWSIM_TX_CTL_* flags, echoed back in the status.
    pub flags: u32,
    /// Rate table (4 × {idx, count}), echoed back: mac80211 reads retries from it.
    pub tx_info: Vec<u8>,
    /// Channel the radio is on; absent from kernels older than 4.x.
    pub freq: Option<u32>,
    /// Identifies the frame in the status answer.
    pub cookie: u64,
}

/// Reads a HWSIM_CMD_FRAME from the kernel.
pub fn tx_frame(msg: &Genl<'_>) -> Result<TxFrame, ParseError> {
    Ok(TxFrame {
        transmitter: fixed(msg, ATTR_ADDR_TRANSMITTER)?,
        frame: attr(msg, ATTR_FRAME)
            .ok_or(ParseError::MissingAttribute(ATTR_FRAME))?
            .to_vec(),
        flags: u32::from_ne_bytes(fixed(msg, ATTR_FLAGS)?),
        tx_info: attr(msg, ATTR_TX_INFO)
            .ok_or(ParseError::MissingAttribute(ATTR_TX_INFO))?
            .to_vec(),
        freq: fixed(msg, ATTR_FREQ).ok().map(u32::from_ne_bytes),
        cookie: u64::from_ne_bytes(fixed(msg, ATTR_COOKIE)?),
    })
}

/// An attribute that must be exactly N bytes long.
fn fixed<const N: usize>(msg: &Genl<'_>, kind: u16) -> Result<[u8; N], ParseError> {
    attr(msg, kind)
        .and_then(|v| v.try_into().ok())
        .ok_or(ParseError::MissingAttribute(kind))
}

/// Builds one netlink request: header, genl header, attributes; the length is patched at the end.
pub struct Request {
    buf: Vec<u8>,
}

impl Request {
    /// Starts a request to `family` with the given command.
    pub fn new(family: u16, flags: u16, seq: u32, cmd: u8, version: u8) -> Self {
        let mut buf = Vec::with_capacity(256);
        buf.extend_from_slice(&0u32.to_ne_bytes());
        buf.extend_from_slice(&family.to_ne_bytes());
        buf.extend_from_slice(&(NLM_F_REQUEST | flags).to_ne_bytes());
        buf.extend_from_slice(&seq.to_ne_bytes());
        buf.extend_from_slice(&0u32.to_ne_bytes());
        buf.extend_from_slice(&[cmd, version, 0, 0]);
        Request { buf }
    }

    /// Appends one attribute, padded to 4 bytes.
    pub fn attr(mut self, kind: u16, value: &[u8]) -> Self {
        self.buf
            .extend_from_slice(&((4 + value.len()) as u16).to_ne_bytes());
        self.buf.extend_from_slice(&kind.to_ne_bytes());
        self.buf.extend_from_slice(value);
        self.buf.resize(align4(self.buf.len()), 0);
        self
    }

    /// The finished message.
    pub fn finish(mut self) -> Vec<u8> {
        let len = (self.buf.len() as u32).to_ne_bytes();
        self.buf[..4].copy_from_slice(&len);
        self.buf
    }
}

/// Asks the controller for a family's id by name.
pub fn get_family(seq: u32, name: &str) -> Vec<u8> {
    let mut value = name.as_bytes().to_vec();
    value.push(0);
    Request::new(GENL_ID_CTRL, 0, seq, CTRL_CMD_GETFAMILY, 1)
        .attr(CTRL_ATTR_FAMILY_NAME, &value)
        .finish()
}

/// Takes over the namespace's radios; the ack tells us it worked.
pub fn register(family: u16, seq: u32) -> Vec<u8> {
    Request::new(family, NLM_F_ACK, seq, HWSIM_CMD_REGISTER, HWSIM_VERSION).finish()
}

/// Transmit status for a frame the kernel handed us: with HWSIM_TX_STAT_ACK when "acked".
pub fn tx_info_frame(family: u16, seq: u32, frame: &TxFrame, acked: bool) -> Vec<u8> {
    let flags = if acked {
        frame.flags | HWSIM_TX_STAT_ACK
    } else {
        frame.flags & !HWSIM_TX_STAT_ACK
    };
    Request::new(family, 0, seq, HWSIM_CMD_TX_INFO_FRAME, HWSIM_VERSION)
        .attr(ATTR_ADDR_TRANSMITTER, &frame.transmitter)
        .attr(ATTR_FLAGS, &flags.to_ne_bytes())
        .attr(ATTR_COOKIE, &frame.cookie.to_ne_bytes())
        .attr(ATTR_SIGNAL, &SIGNAL_DBM.to_ne_bytes())
        .attr(ATTR_TX_INFO, &frame.tx_info)
        .finish()
}

/// Delivers a frame from the link to one radio, as if it had been received over the air.
pub fn inject(family: u16, seq: u32, receiver: &[u8; 6], frame: &[u8], freq: u16) -> Vec<u8> {
    Request::new(family, 0, seq, HWSIM_CMD_FRAME, HWSIM_VERSION)
        .attr(ATTR_ADDR_RECEIVER, receiver)
        .attr(ATTR_FRAME, frame)
        .attr(ATTR_RX_RATE, &0u32.to_ne_bytes())
        .attr(ATTR_SIGNAL, &SIGNAL_DBM.to_ne_bytes())
        .attr(ATTR_FREQ, &u32::from(freq).to_ne_bytes())
        .finish()
}

fn attr<'a>(msg: &Genl<'a>, kind: u16) -> Option<&'a [u8]> {
    msg.attrs.iter().find(|(k, _)| *k == kind).map(|(_, v)| *v)
}

fn field<const N: usize>(buf: &[u8], at: usize) -> Result<[u8; N], ParseError> {
    buf.get(at..at + N)
        .and_then(|b| b.try_into().ok())
        .ok_or(ParseError::Truncated)
}

fn align4(n: usize) -> usize {
    (n + 3) & !3
}

#[cfg(all(test, target_endian = "little"))]
mod tests {
    use super::*;

    #[test]
    fn get_family_request_matches_kernel_layout() {
        let msg = get_family(7, "MAC80211_HWSIM");
        #[rustfmt::skip]
        let expected: &[u8] = &[
            40, 0, 0, 0, 0x10, 0, 1, 0, 7, 0, 0, 0, 0, 0, 0, 0,
            3, 1, 0, 0,
            19, 0, 2, 0, b'M', b'A', b'C', b'8', b'0', b'2', b'1', b'1', b'_', b'H', b'W', b'S', b'I', b'M', 0, 0,
        ];
        assert_eq!(msg, expected);
    }

    #[test]
    fn register_asks_for_an_ack() {
        let msg = register(0x22, 1);
        assert_eq!(
            msg,
            [20, 0, 0, 0, 0x22, 0, 5, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1, 1, 0, 0]
        );
    }

    #[test]
    fn family_id_read_from_controller_reply() {
        #[rustfmt::skip]
        let reply: &[u8] = &[
            36, 0, 0, 0, 0x10, 0, 0, 0, 7, 0, 0, 0, 0x39, 0x05, 0, 0,
            1, 2, 0, 0,
            6, 0, 1, 0, 0x22, 0, 0, 0,
            8, 0, 2, 0, b'h', b'w', b's', 0,
        ];
        let msgs = messages(reply).unwrap();
        assert_eq!(msgs.len(), 1);
        assert_eq!(msgs[0].kind, GENL_ID_CTRL);
        assert_eq!(msgs[0].seq, 7);
        assert_eq!(family_id(&genl(msgs[0].payload).unwrap()), Some(0x22));
    }

    /// A HWSIM_CMD_FRAME as 6.1 sends it: transmitter, frame, flags, tx info, freq, cookie.
    #[rustfmt::skip]
    const FRAME_MSG: &[u8] = &[
        100, 0, 0, 0, 0x22, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
        2, 1, 0, 0,
        10, 0, 2, 0, 0x42, 0, 0, 0, 0, 0, 0, 0,
        28, 0, 3, 0, 0x48, 0x01, 0, 0, 2, 0, 0, 0, 1, 0, 2, 0, 0, 0, 0, 0, 2, 0, 0, 0, 1, 0, 0x10, 0,
        8, 0, 4, 0, 1, 0, 0, 0,
        12, 0, 7, 0, 0, 3, 0xff, 0, 0xff, 0, 0xff, 0,
        8, 0, 19, 0, 0x85, 0x09, 0, 0,
        12, 0, 8, 0, 0xef, 0xbe, 0, 0, 0, 0, 0, 0,
    ];

    #[test]
    fn tx_frame_parsed_from_kernel_frame_message() {
        let msgs = messages(FRAME_MSG).unwrap();
        let g = genl(msgs[0].payload).unwrap();
        assert_eq!(g.cmd, HWSIM_CMD_FRAME);
        let tx = tx_frame(&g).unwrap();
        assert_eq!(tx.transmitter, [0x42, 0, 0, 0, 0, 0]);
        assert_eq!(tx.frame.len(), 24);
        assert_eq!(tx.flags, 1);
        assert_eq!(tx.tx_info, [0, 3, 0xff, 0, 0xff, 0, 0xff, 0]);
        assert_eq!(tx.freq, Some(2437));
        assert_eq!(tx.cookie, 0xbeef);
    }

    #[test]
    fn tx_info_frame_echoes_cookie_and_sets_ack_flag() {
        let msgs = messages(FRAME_MSG).unwrap();
        let tx = tx_frame(&genl(msgs[0].payload).unwrap()).unwrap();
        #[rustfmt::skip]
        let expected: &[u8] = &[
            72, 0, 0, 0, 0x22, 0, 1, 0, 9, 0, 0, 0, 0, 0, 0, 0,
            3, 1, 0, 0,
            10, 0, 2, 0, 0x42, 0, 0, 0, 0, 0, 0, 0,
            8, 0, 4, 0, 5, 0, 0, 0,
            12, 0, 8, 0, 0xef, 0xbe, 0, 0, 0, 0, 0, 0,
            8, 0, 6, 0, 0xce, 0xff, 0xff, 0xff,
            12, 0, 7, 0, 0, 3, 0xff, 0, 0xff, 0, 0xff, 0,
        ];
        assert_eq!(tx_info_frame(0x22, 9, &tx, true), expected);
        let lost = tx_info_frame(0x22, 9, &tx, false);
        assert_eq!(&lost[36..40], &[1, 0, 0, 0]);
    }

    #[test]
    fn inject_carries_receiver_frame_rate_signal_and_freq() {
        let msg = inject(0x22, 3, &[0x42, 0, 0, 0, 1, 0], &[0x80, 0, 0, 0], 2437);
        let g = genl(messages(&msg).unwrap()[0].payload).unwrap();
        assert_eq!(g.cmd, HWSIM_CMD_FRAME);
        let kinds: Vec<u16> = g.attrs.iter().map(|(k, _)| *k).collect();
        assert_eq!(kinds, [1, 3, 5, 6, 19]);
        assert_eq!(g.attrs[0].1, &[0x42, 0, 0, 0, 1, 0]);
        assert_eq!(g.attrs[4].1, &2437u32.to_ne_bytes());
    }

    #[test]
    fn truncated_messages_and_attributes_are_errors() {
        assert_eq!(messages(&FRAME_MSG[..60]), Err(ParseError::Truncated));
        let msgs = messages(FRAME_MSG).unwrap();
        let payload = msgs[0].payload;
        let mut cut = payload.to_vec();
        cut[16] = 200;
        assert_eq!(genl(&cut), Err(ParseError::Truncated));
        assert_eq!(genl(&[]), Err(ParseError::Truncated));
    }

    #[test]
    fn frame_without_cookie_is_rejected() {
        assert_eq!(messages(&FRAME_MSG[..88]), Err(ParseError::Truncated));
        let mut short = FRAME_MSG[..88].to_vec();
        short[0] = 88;
        let msgs = messages(&short).unwrap();
        let g = genl(msgs[0].payload).unwrap();
        assert_eq!(tx_frame(&g), Err(ParseError::MissingAttribute(8)));
    }

    #[test]
    fn error_message_code_read() {
        let err: &[u8] = &[
            36, 0, 0, 0, 2, 0, 0, 0, 5, 0, 0, 0, 0, 0, 0, 0, 0xea, 0xff, 0xff, 0xff, 20, 0, 0, 0,
            0x22, 0, 0, 0, 5, 0, 0, 0, 0, 0, 0, 0,
        ];
        let msgs = messages(err).unwrap();
        assert_eq!(msgs[0].kind, NLMSG_ERROR);
        assert_eq!(error_code(&msgs[0]), Ok(-22));
    }
}
