"""A scripted DHCP client on a raw socket, for many clients with distinct MACs.

One AF_PACKET socket on an interface (run it inside the phone's namespace)
plays any number of DHCP clients: each has its own chaddr and Ethernet
source MAC, and goes DISCOVER -> OFFER -> REQUEST -> ACK (RFC 2131) with a
bounded number of transactions in flight and a retransmit after a timeout.
Used by bench/network.sh (leases per second) and usable from tests.

    python3 dhcp_clients.py IFACE COUNT [--window W] [--timeout S] [--seed N]

prints one JSON object: leases, distinct, seconds, leases_per_s,
lease_ms_p50/p99 (DISCOVER sent -> ACK received, per client), retries, naks,
failed and the addresses.
"""
import json
import os
import random
import select
import socket
import struct
import sys
import time

ETH_P_IP = 0x0800
BROADCAST_MAC = b"\xff" * 6
MAGIC = b"\x63\x82\x53\x63"
DISCOVER, OFFER, REQUEST, ACK, NAK, RELEASE = 1, 2, 3, 5, 6, 7


def checksum(data):
    if len(data) % 2:
        data += b"\0"
    total = sum(struct.unpack(f"!{len(data) // 2}H", data))
    while total >> 16:
        total = (total & 0xFFFF) + (total >> 16)
    return ~total & 0xFFFF


def dhcp_payload(kind, xid, mac, options=(), ciaddr=b"\0" * 4):
    """A BOOTREQUEST with the broadcast flag, padded to the 300 bytes of BOOTP."""
    fixed = struct.pack("!BBBBIHH4s4s4s4s16s64s128s", 1, 1, 6, 0, xid, 0, 0x8000, ciaddr,
                        b"\0" * 4, b"\0" * 4, b"\0" * 4, mac + b"\0" * 10, b"", b"")
    opts = bytes([53, 1, kind]) + bytes([61, 7, 1]) + mac
    for code, value in options:
        opts += bytes([code, len(value)]) + value
    opts += bytes([55, 4, 1, 3, 6, 114, 255])
    payload = fixed + MAGIC + opts
    return payload + b"\0" * max(0, 300 - len(payload))


def frame(mac, payload, src=b"\0" * 4, dst=b"\xff" * 4, dst_mac=BROADCAST_MAC):
    """Ethernet + IPv4 + UDP 68 -> 67 around a DHCP payload, checksums filled in."""
    udp_len = 8 + len(payload)
    pseudo = src + dst + struct.pack("!BBH", 0, 17, udp_len)
    udp = struct.pack("!HHHH", 68, 67, udp_len, 0) + payload
    udp = udp[:6] + struct.pack("!H", checksum(pseudo + udp) or 0xFFFF) + udp[8:]
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + udp_len, 0, 0, 64, 17, 0, src, dst)
    ip = ip[:10] + struct.pack("!H", checksum(ip)) + ip[12:]
    return dst_mac + mac + struct.pack("!H", ETH_P_IP) + ip + udp


def parse_reply(data):
    """(kind, xid, chaddr, yiaddr, options) of a BOOTREPLY to port 68 in an Ethernet frame, else None."""
    if len(data) < 14 + 20 + 8 + 240 or data[12:14] != b"\x08\x00":
        return None
    ihl = (data[14] & 0x0F) * 4
    if data[23] != 17:
        return None
    udp = 14 + ihl
    if struct.unpack("!H", data[udp + 2:udp + 4])[0] != 68:
        return None
    bootp = data[udp + 8:]
    if len(bootp) < 240 or bootp[0] != 2 or bootp[236:240] != MAGIC:
        return None
    xid = struct.unpack("!I", bootp[4:8])[0]
    options, at = {}, 240
    while at < len(bootp) and bootp[at] != 255:
        if bootp[at] == 0:
            at += 1
            continue
        if at + 1 >= len(bootp):
            break
        n = bootp[at + 1]
        options[bootp[at]] = bootp[at + 2:at + 2 + n]
        at += 2 + n
    kind = options.get(53, b"\0")[0]
    return kind, xid, bytes(bootp[28:34]), socket.inet_ntoa(bootp[16:20]), options


def macs(count, seed=2048):
    """`count` distinct locally administered unicast MACs."""
    rng = random.Random(seed)
    seen = set()
    while len(seen) < count:
        seen.add(bytes([0x02, 0x20, 0x48]) + rng.randbytes(3))
    return sorted(seen)


def lease_many(iface, client_macs, window=8, timeout=1.0, deadline=60.0):
    """Runs one DHCP client per MAC, at most `window` in flight; returns a dict."""
    sock = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_IP))
    sock.bind((iface, 0))
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 20)
    pending = list(client_macs)
    flight = {}  # xid -> {mac, state, sent_at, offered, server}
    got, retries, naks, failed, took = {}, 0, 0, [], []
    xid_base = random.Random(os.getpid()).randrange(1 << 31)
    serial = 0
    start = time.monotonic()
    end = start + deadline

    def send(tx):
        tx["sent_at"] = time.monotonic()
        if tx["state"] == DISCOVER:
            payload = dhcp_payload(DISCOVER, tx["xid"], tx["mac"])
        else:
            payload = dhcp_payload(REQUEST, tx["xid"], tx["mac"],
                                   [(50, socket.inet_aton(tx["offered"])), (54, tx["server"])])
        sock.send(frame(tx["mac"], payload))

    while (pending or flight) and time.monotonic() < end:
        while pending and len(flight) < window:
            serial += 1
            tx = {"mac": pending.pop(0), "state": DISCOVER, "xid": (xid_base + serial) & 0xFFFFFFFF, "tries": 1,
                  "began": time.monotonic()}
            flight[tx["xid"]] = tx
            send(tx)
        now = time.monotonic()
        wait = min((tx["sent_at"] + timeout for tx in flight.values()), default=now) - now
        ready, _, _ = select.select([sock], [], [], max(0.0, min(wait, end - now)))
        if ready:
            data = sock.recv(2048)
            reply = parse_reply(data)
            if reply is None:
                continue
            kind, xid, chaddr, yiaddr, options = reply
            tx = flight.get(xid)
            if tx is None or chaddr != tx["mac"]:
                continue
            if kind == OFFER and tx["state"] == DISCOVER:
                tx.update(state=REQUEST, offered=yiaddr, server=options.get(54, b"\0" * 4), tries=1)
                send(tx)
            elif kind == ACK and tx["state"] == REQUEST:
                got[tx["mac"].hex(":")] = yiaddr
                took.append(time.monotonic() - tx["began"])
                del flight[xid]
            elif kind == NAK:
                naks += 1
                tx.update(state=DISCOVER, tries=1)
                send(tx)
        now = time.monotonic()
        for xid, tx in list(flight.items()):
            if now - tx["sent_at"] >= timeout:
                if tx["tries"] >= 5:
                    failed.append(tx["mac"].hex(":"))
                    del flight[xid]
                    continue
                tx["tries"] += 1
                retries += 1
                send(tx)
    seconds = time.monotonic() - start
    failed += [tx["mac"].hex(":") for tx in flight.values()] + [m.hex(":") for m in pending]
    sock.close()
    took.sort()
    pct = lambda q: round(took[min(len(took) - 1, int(q * len(took)))] * 1000, 2) if took else None
    return {"leases": len(got), "distinct": len(set(got.values())), "seconds": round(seconds, 4),
            "leases_per_s": round(len(got) / seconds, 1) if seconds else 0.0,
            "lease_ms_p50": pct(0.5), "lease_ms_p99": pct(0.99), "retries": retries,
            "naks": naks, "failed": failed, "addresses": got}


def release(iface, mac, address, server="10.42.0.1"):
    """Sends a DHCPRELEASE for `address` held by `mac` (broadcast frame, ciaddr set)."""
    sock = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_IP))
    sock.bind((iface, 0))
    payload = dhcp_payload(RELEASE, random.randrange(1 << 32), mac, [(54, socket.inet_aton(server))],
                           ciaddr=socket.inet_aton(address))
    sock.send(frame(mac, payload, src=socket.inet_aton(address)))
    sock.close()


def main(argv):
    import argparse
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("iface")
    p.add_argument("count", type=int)
    p.add_argument("--window", type=int, default=8)
    p.add_argument("--timeout", type=float, default=1.0)
    p.add_argument("--deadline", type=float, default=60.0)
    p.add_argument("--seed", type=int, default=2048)
    p.add_argument("--release", action="store_true", help="release every lease at the end")
    a = p.parse_args(argv)
    client_macs = macs(a.count, a.seed)
    result = lease_many(a.iface, client_macs, a.window, a.timeout, a.deadline)
    if a.release:
        for mac, addr in result["addresses"].items():
            release(a.iface, bytes.fromhex(mac.replace(":", "")), addr)
    json.dump(result, sys.stdout)
    print()
    return 0 if not result["failed"] else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
