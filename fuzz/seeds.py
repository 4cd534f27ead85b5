#!/usr/bin/env python3
"""seeds.py CORPUS_DIR: writes a starting corpus for each fuzz target into CORPUS_DIR/TARGET/
(well-formed inputs, so that libFuzzer starts from the parsers' accepting paths). Idempotent."""
import os
import ssl
import struct
import sys
import zlib


def name(n):  # DNS wire name
    return b"".join(bytes([len(p)]) + p.encode() for p in n.split(".") if p) + b"\0"


def dns(qid, flags, questions, additional=b"", arcount=0, extra_q=b""):
    body = b"".join(name(q) + struct.pack(">HH", t, 1) for q, t in questions) + extra_q
    qd = len(questions) + (1 if extra_q else 0)
    return struct.pack(">HHHHHH", qid, flags, qd, 0, 0, arcount) + body + additional


def opt(payload=1232, version=0):  # root owner, type OPT, class = payload, ttl = ext-rcode|version|flags
    return b"\0" + struct.pack(">HHBBHH", 41, payload, 0, version, 0, 0)


def dhcp(kind, mac=b"\x02\x00\x00\x00\x00\x01", ciaddr=b"\0" * 4, options=b"", op=1):
    head = struct.pack(">BBBBIHH", op, 1, 6, 0, 0x12345678, 0, 0x8000)
    head += ciaddr + b"\0" * 12 + mac + b"\0" * 10 + b"\0" * 192 + b"\x63\x82\x53\x63"
    return head + bytes([53, 1, kind]) + options + b"\x37\x04\x01\x03\x06\x72\xff"


def ip(s):
    return bytes(int(x) for x in s.split("."))


def frame(packets, setup=0):  # dhcp_handle input: setup byte, then [len u16 BE][dt u8][packet]...
    return bytes([setup]) + b"".join(struct.pack(">HB", len(p), dt) + p for dt, p in packets)


def journal_block(epoch, seq, kind, game=(0, 0, 0, 0, b"")):  # services/leaderboard/journal.rs layout
    number, score, tile, moves, nick = game
    block = b"LBJ1" + struct.pack("<IIBBxx", epoch, seq, kind, len(nick)) + struct.pack("<IIII", number, score, tile, moves)
    block = (block + nick).ljust(508, b"\0")
    return block + struct.pack("<I", zlib.crc32(block))


def client_hello(minimum, maximum):  # the first flight of Python's (OpenSSL's) TLS client
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname, ctx.verify_mode = False, ssl.CERT_NONE
    ctx.minimum_version, ctx.maximum_version = minimum, maximum
    incoming, outgoing = ssl.MemoryBIO(), ssl.MemoryBIO()
    tls = ctx.wrap_bio(incoming, outgoing, server_hostname="2048.home.arpa")
    try:
        tls.do_handshake()
    except ssl.SSLWantReadError:
        pass
    return outgoing.read()


BSSID = bytes([2, 0, 0, 0, 0, 0])
STA = bytes([2, 0, 0, 0, 1, 0])
RATES = bytes([1, 8, 0x02, 0x04, 0x0b, 0x16, 0x0c, 0x12, 0x18, 0x24, 50, 4, 0x30, 0x48, 0x60, 0x6c])
WMM = bytes([0xdd, 7, 0x00, 0x50, 0xf2, 0x02, 0x00, 0x01, 0x00])
RSN = bytes.fromhex("30140100000fac040100000fac040100000fac020000")


def wifi(fc, a1, a2, a3, body, seq=1):  # an 802.11 management/data frame as a Linux station sends it
    return struct.pack("<HH", fc, 0x013a) + a1 + a2 + a3 + struct.pack("<H", seq << 4) + body


def assoc_req(rsn=b""):
    return wifi(0x0000, BSSID, STA, BSSID, b"\x31\x04\x05\x00" + b"\x00\x042048" + RATES + rsn + WMM, 2)


AUTH = wifi(0x00B0, BSSID, STA, BSSID, b"\0\0\1\0\0\0")
PROBE = wifi(0x0040, b"\xff" * 6, STA, b"\xff" * 6, b"\x00\x00" + RATES + b"\x03\x01\x06")
SNAP = b"\xaa\xaa\x03\x00\x00\x00\x08\x00"
DATA = wifi(0x0188, BSSID, STA, b"\x52\x54\x00\x12\x34\x56", b"\x00\x00" + SNAP + b"ping", 3)
NULL_PS = wifi(0x1148, BSSID, STA, BSSID, b"", 4)
PS_POLL = struct.pack("<HH", 0x10A4, 0xC001) + BSSID + STA
ETHER = STA + b"\x52\x54\x00\x12\x34\x56\x08\x00" + b"pong"
GROUP = b"\xff" * 6 + b"\x52\x54\x00\x12\x34\x56\x08\x06" + b"who-has"


def ap_ops(ops, setup=0):  # wifi_station input: setup byte, then [op][dt u16 BE][len u16 BE][bytes]...
    return bytes([setup]) + b"".join(struct.pack(">BHH", op, dt, len(b)) + b for op, dt, b in ops)


JOIN = [(0, 0, AUTH), (2, 1, b""), (0, 1, assoc_req()), (2, 1, b"")]


SERVER = bytes([54, 4]) + ip("10.42.0.1")
REQ10 = bytes([50, 4]) + ip("10.42.0.10")
SEEDS = {
    "http_percent_decode": [b"/", b"/a%20b", b"/%zz", b"/%2", b"/%ff", b"/%e2%82%ac/x", b"/index.html?x=%41"],
    "http_headers": [
        b'GET\n/\ngzip, deflate, br\n"83b24f9ec47d115f"\n10.42.0.1:80',
        b"GET\n/generate_204\n\n\nconnectivitycheck.gstatic.com",
        b'HEAD\n/app.js\n*;q=0, gzip;q=0.5\nW/"x", *\n[::1]:8080',
        b"POST\n/stats.json\nx-gzip;q=1.0\n\n2048.home.arpa.",
        b"GET\n/%2e%2e/\nidentity\n*\nlocalhost",
    ],
    "config_bootargs": [
        b"console=ttyAMA0 ip=10.42.0.1/24 http_slots=32 dhcp_pool=10.42.0.10-10.42.0.250 lease=3600 "
        b"name=2048.home.arpa crash=panic",
        b"ip=192.168.7.1/16 dhcp_pool=192.168.7.100-192.168.7.110 name=Game.Example",
        b"ip=10.42.0.999 http_slots=0 lease=abc name=bad..name crash=maybe dhcp_pool=1",
        b"ip=10.0.0.1/8 dhcp_pool=10.255.255.250-10.0.0.2",
    ],
    "dns_respond": [
        dns(0x1234, 0x0100, [("connectivitycheck.gstatic.com", 1)]),
        dns(0x0001, 0x0100, [("captive.apple.com", 28)]),
        dns(0x0002, 0x0100, [("2048.home.arpa", 1)], opt(4096), 1),
        dns(0x0003, 0x0100, [("example.com", 1)], opt(1232, 1), 1),
        dns(0x0004, 0x0100, [("a.example", 1)], extra_q=b"\xc0\x0c\x00\x1c\x00\x01"),  # 2nd name: pointer
        dns(0x0005, 0x1000, [("status.example", 1)]),  # opcode STATUS
        dns(0x0006, 0x8180, [("response.example", 1)]),  # a response
    ],
    "tls_accept": [
        client_hello(ssl.TLSVersion.TLSv1_3, ssl.TLSVersion.TLSv1_3),
        client_hello(ssl.TLSVersion.TLSv1_2, ssl.TLSVersion.TLSv1_2),  # refused: TLS 1.3 only
        client_hello(ssl.TLSVersion.TLSv1_3, ssl.TLSVersion.TLSv1_3)[:60],  # truncated
        b"GET / HTTP/1.1\r\nHost: 2048.home.arpa\r\n\r\n",  # plain HTTP on 443
        b"\x16\x03\x01\xff\xff" + b"\x01" * 64,  # a record header claiming 64 KiB
    ],
    "dhcp_handle": [
        frame([(0, dhcp(1)), (1, dhcp(3, options=SERVER + REQ10))]),
        frame([(0, dhcp(1)), (1, dhcp(3, options=SERVER + REQ10)), (2, dhcp(7, ciaddr=ip("10.42.0.10"))),
               (0, dhcp(1))]),
        frame([(0, dhcp(8, ciaddr=ip("10.42.0.77")))]),  # INFORM
        frame([(0, dhcp(1)), (0, dhcp(4, options=SERVER + REQ10))]),  # DECLINE
        frame([(0, dhcp(3, options=REQ10)), (200, dhcp(3, ciaddr=ip("10.42.0.10")))]),  # INIT-REBOOT, renew
        frame([(0, dhcp(1, mac=bytes([2, 0, 0, 0, 0, i]))) for i in range(5)], setup=1),  # exhaust 3
        frame([(0, dhcp(3, options=bytes([54, 4]) + ip("10.42.0.99") + REQ10))]),  # another server
    ],
    "wifi_frame": [PROBE, AUTH, assoc_req(RSN), DATA, NULL_PS, PS_POLL, ETHER, RSN,
                   wifi(0x00D0, BSSID, STA, BSSID, bytes([3, 0, 1, 0x02, 0x10, 0, 0, 0x10, 0]))],
    "wifi_station": [
        ap_ops([(4, 0, b""), (0, 1, PROBE)]),
        ap_ops(JOIN + [(0, 5, DATA), (1, 5, ETHER), (3, 5, b""), (3, 5, b""), (2, 5, b""), (1, 1, GROUP)]),
        ap_ops(JOIN + [(0, 5, NULL_PS), (1, 1, ETHER), (1, 1, GROUP), (4, 1600, b""), (0, 1, PS_POLL),
                       (2, 1, b""), (4, 1600, b"")]),
        ap_ops(JOIN + [(4, 40000, b""), (3, 1, b""), (3, 1, b""), (3, 1, b""), (3, 1, b""), (3, 1, b"")]),
        ap_ops([(0, 0, AUTH), (2, 1, b""), (0, 1, assoc_req(RSN)), (2, 1, b""), (4, 20000, b"")], setup=0x11),
        ap_ops(JOIN + [(0, 0, AUTH), (2, 1, b""), (0, 1, assoc_req())], setup=8),
    ],
    "leaderboard_post": [
        b'{"id":"00000001000a1234","name":"Ada","moves":"LRUDZ","score":12}',
        b'{"id":"00000001000a1234","name":"\\u00e9\\"<b>","moves":"L","score":0}',
        b"DDLLLUDLZULDLDRUU",
    ],
    # Journal areas (512-byte blocks): a commit alone, then a game after it.
    "leaderboard_journal": [journal_block(1, 1, 2), journal_block(1, 1, 2) + journal_block(1, 2, 1, game=(1, 2048, 128, 99, b"Ada"))],
}

def eapol_key(info, data=b"", nonce=b"\xb7" * 32):  # a supplicant's EAPOL-Key; MIC and counter left to the harness
    body = struct.pack(">BHH", 2, info, 0) + bytes(8) + nonce + bytes(48) + struct.pack(">H", len(data)) + data
    return struct.pack(">BBH", 1, 3, len(body)) + body


def eapol_records(records, setup=0):  # wifi_eapol input: setup byte, then [len u16 BE][op u8][frame]...
    return bytes([setup]) + b"".join(struct.pack(">HB", len(f), op) + f for op, f in records)


RSN = bytes.fromhex("30140100000fac040100000fac040100000fac020000")
MSG2, MSG4 = eapol_key(0x010A, RSN), eapol_key(0x030A, nonce=bytes(32))
SEEDS["wifi_eapol"] = [
    eapol_records([(3, MSG2), (3, MSG4)]),  # the whole handshake
    eapol_records([(3, MSG2), (4, b""), (3, MSG4)]),  # message 3 sent again before message 4
    eapol_records([(2, MSG2), (4, b""), (4, b""), (4, b"")]),  # wrong passphrase: MIC fails, then timeout
    eapol_records([(0, RSN), (3, MSG2)], setup=1),  # the station's element from the input
    eapol_records([(3, eapol_key(0x010A, RSN[:20] + b"\x80\x00")), (0, b"\x01\x01\x00\x00")]),  # other element; EAPOL-Start
    eapol_records([(3, MSG2[:60]), (1, eapol_key(0x0B0A))]),  # truncated; a request
]

def rt2800_rx(frame, header, l2pad=True, rxd=0x80):  # an RT5370 bulk IN transfer: RXINFO, RXWI, frame, pad, RXD
    pad = (-header % 4) if l2pad else 0
    packet = (16 + len(frame) + pad + 3) // 4 * 4
    body = struct.pack("<IIII", 0xFF | len(frame) << 16, 0, 0x2A, 0) + frame[:header] + bytes(pad) + frame[header:]
    return struct.pack("<I", packet) + body.ljust(packet, b"\0") + struct.pack("<I", rxd | (0x4000 if l2pad else 0))


PROBE = wifi(0x0040, b"\xff" * 6, STA, b"\xff" * 6, bytes([0, 4]) + b"2048" + RATES)
QOS = struct.pack("<HH", 0x0188, 0x002C) + BSSID + STA + BSSID + struct.pack("<HH", 0x30, 0) + bytes.fromhex("aaaa030000000800")
SEEDS["rt2800_rx"] = [
    rt2800_rx(PROBE, 24),  # a phone's probe request
    rt2800_rx(wifi(0x00B0, BSSID, STA, BSSID, bytes([0, 0, 1, 0, 0, 0])), 24),  # authentication
    rt2800_rx(QOS, 26),  # QoS data: 2 bytes of L2 pad after the header
    rt2800_rx(QOS, 26, l2pad=False),
    rt2800_rx(PROBE, 24, rxd=0x180),  # CRC error
]

# usb_descriptor: descriptors captured from QEMU's usb-net and usb-kbd (kernel/src/usb/descriptor.rs),
# and their enumeration: each control answer is [len u8][bytes] in the order enumeration asks.
USB_NET_DEVICE = bytes.fromhex("12010002020000402505a2a4000001020a02")
USB_NET_CONFIGS = [bytes.fromhex("09024300020209c03209040000010202ff06052400100105240100010424020005240600010705810310002009040100020a0000040705820240000007050202400000"), bytes.fromhex("09025000020107c032090400000102060005052400100105240600010d240f0300000000ea050000000705810310002009040100000a00000009040101020a0000040705820240000007050202400000")]
USB_KBD_DEVICE = bytes.fromhex("120100020000000827060100000001040b01")
USB_KBD_CONFIG = bytes.fromhex("09022200010108a032090400000103010100092111010001223f000705810308000a")
LANGUAGES, QEMU = bytes.fromhex("04030904"), bytes.fromhex("0a03510045004d005500")


def usb_answers(answers):
    return b"".join(bytes([len(a)]) + a for a in answers)


def usb_enumeration(device, configs, product):
    answers = [device[:8], device] + [a for c in configs for a in (c[:9], c)] + [LANGUAGES, QEMU, LANGUAGES, product]
    return usb_answers(answers)


# usb_storage: a stick's bulk IN transfers ([len u8][bytes], 254: all the transfer asks) as QEMU's
# usb-storage sends them for a 1 MiB imgtool leaderboard-card image: INQUIRY, TEST UNIT READY,
# READ CAPACITY, blocks 0-7 (the MBR first: one read ahead), then a read and a write (with SYNCHRONIZE CACHE) of the area.
def csw(tag, status=0):
    return b"USBS" + tag.to_bytes(4, "little") + bytes(4) + bytes([status])


def stick_session():
    mbr = bytearray(512)
    mbr[446:462] = bytes([0, 0, 0, 0, 0xDA, 0, 0, 0, 0x00, 0x07, 0, 0, 0x00, 0x01, 0, 0])
    mbr[510:512] = b"\x55\xaa"
    ins = [bytes(36), csw(1), csw(2), bytes([0, 0, 7, 0xFF, 0, 0, 2, 0]), csw(3), bytes(mbr) + bytes(3584), csw(4),
           bytes(4096), csw(5), csw(6), csw(7)]
    return b"".join((bytes([254]) if len(a) >= 512 else bytes([len(a)])) + a for a in ins)


SEEDS["usb_storage"] = [csw(1), csw(7, 1), bytes([0, 0, 7, 0xFF, 0, 0, 2, 0]), stick_session()]

SEEDS["usb_descriptor"] = [
    USB_NET_DEVICE, *USB_NET_CONFIGS, USB_KBD_CONFIG, QEMU,
    usb_enumeration(USB_NET_DEVICE, USB_NET_CONFIGS, bytes.fromhex("3c0352004e004400490053002f00510045004d005500200055005300420020004e006500740077006f0072006b002000440065007600690063006500")),
    usb_enumeration(USB_KBD_DEVICE, [USB_KBD_CONFIG], bytes.fromhex("2403510045004d005500200055005300420020004b006500790062006f00610072006400")),
]

out = sys.argv[1]
for target, seeds in SEEDS.items():
    os.makedirs(os.path.join(out, target), exist_ok=True)
    for i, seed in enumerate(seeds):
        with open(os.path.join(out, target, f"seed-{i}"), "wb") as f:
            f.write(seed)
