#!/usr/bin/env bash
# Benchmarks the appliance's DHCP and DNS servers over a TAP: per board, boots the appliance on TAP tap2048b,
# bridged (br2048b) to a veth into network namespace bench2048, and from inside that namespace measures
#   - DHCP leases/s: tests/e2e/dhcp_clients.py, a scripted client on a raw socket playing many phones with
#     distinct MACs, each DISCOVER -> OFFER -> REQUEST -> ACK, one at a time and WINDOW at a time;
#   - DNS queries/s: dnsperf (Debian's, installed if missing) at 1, 16 and 64 queries outstanding.
# Prints Markdown and replaces (or appends) the "## DHCP and DNS" section of bench/RESULTS.md.
#
# Usage: bench/network.sh       (needs root for the TAP and the namespace; about 1 minute per board)
#
# Env: BOARDS (both virt boards), DHCP_SERIAL (50 clients one at a time), DHCP_WINDOWED (150 clients),
#      WINDOW (8 in flight), DHCP_LARGE (4000 clients on another boot with a pool of 4081; 0 skips it),
#      DNS_SECS (10 s per dnsperf row), DNS_QUEUE ("1 16 64" outstanding), BOOT_TIMEOUT (60 s),
#      OUT (bench/RESULTS.md; OUT= prints only).
# Traffic stays on br2048b and in bench2048 (not used elsewhere); every step has a time limit; QEMU runs in
# its own session and is stopped by its process-group id; the links, the namespace and /etc/netns/bench2048
# go on exit, also on errors and ^C. Boots the last build (./qemu.sh --no-build): run tools/build.sh first.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
WANT_BOARDS=${BOARDS:-}
. tools/boards.sh
BOARDS=${WANT_BOARDS:-$BOARDS}
DHCP_SERIAL=${DHCP_SERIAL:-50}; DHCP_WINDOWED=${DHCP_WINDOWED:-150}; WINDOW=${WINDOW:-8}
DHCP_LARGE=${DHCP_LARGE:-4000}; DNS_SECS=${DNS_SECS:-10}; DNS_QUEUE=${DNS_QUEUE:-1 16 64}; BOOT_TIMEOUT=${BOOT_TIMEOUT:-60}
OUT=${OUT-bench/RESULTS.md}
BIG_POOL="ip=10.42.0.1/20 dhcp_pool=10.42.0.10-10.42.15.250"
NS=bench2048; TAP=tap2048b; BR=br2048b; VNS=vbench2048; VHOST=vhbench2048; APPLIANCE=10.42.0.1
T_START=$SECONDS; DATE=$(date -u '+%Y-%m-%d %H:%M UTC'); LOAD_START=$(cut -d' ' -f1-3 /proc/loadavg)
log() { echo "[network $(( SECONDS - T_START ))s] $*" >&2; }

[[ $(id -u) -eq 0 ]] || { echo "bench/network.sh needs root (TAP device, network namespace)" >&2; exit 1; }
need=()
for pair in dnsperf:dnsperf busybox:busybox curl:curl python3:python3 ip:iproute2; do
  command -v "${pair%%:*}" >/dev/null 2>&1 || need+=("${pair#*:}")
done
if ((${#need[@]})); then
  log "installing: ${need[*]}"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${need[@]}" >&2 \
    || { apt-get update -q >&2; DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${need[@]}" >&2; }
fi
for board in $BOARDS; do
  [[ -f build/$board/$board.bin ]] || { echo "no build/$board/$board.bin: run tools/build.sh $board" >&2; exit 1; }
done
if ip link show "$TAP" >/dev/null 2>&1 || ip netns list | grep -qw "$NS"; then
  echo "$TAP or namespace $NS already exists: another bench/network.sh running?" >&2; exit 1
fi

WORK=$(mktemp -d); GPID=
running() { [[ $(ps -o stat= -p "$1" 2>/dev/null || true) =~ ^[^Z] ]]; }
stop_guest() {  # SIGTERM QEMU's process group, SIGKILL after 10 s, reap
  [[ -n $GPID ]] || return 0
  kill -- -"$GPID" 2>/dev/null || true
  for _ in {1..100}; do running "$GPID" || break; sleep 0.1; done
  kill -KILL -- -"$GPID" 2>/dev/null || true; wait "$GPID" 2>/dev/null || true; GPID=
}
unwire() {
  ip netns del "$NS" 2>/dev/null || true
  for l in "$BR" "$TAP" "$VHOST"; do ip link del "$l" 2>/dev/null || true; done
  rm -rf "/etc/netns/$NS"; rmdir /etc/netns 2>/dev/null || true
}
cleanup() { stop_guest; unwire; rm -rf "$WORK"; }
trap cleanup EXIT; trap 'exit 130' INT TERM
wire() {
  ip tuntap add dev "$TAP" mode tap
  ip link add "$BR" type bridge
  ip link set "$TAP" master "$BR"
  ip netns add "$NS"
  ip link add "$VNS" type veth peer name "$VHOST"
  ip link set "$VHOST" master "$BR"
  ip link set "$VNS" netns "$NS"
  ip link set "$TAP" up; ip link set "$BR" up; ip link set "$VHOST" up
  ip -n "$NS" link set "$VNS" up; ip -n "$NS" link set lo up
}
in_ns() { ip netns exec "$NS" "$@"; }
stats() { in_ns curl -s -m 5 "http://$APPLIANCE/stats.json" || true; }
jget() {  # JSON KEY.PATH: one field, or "-"
  python3 -c 'import json, sys
try:
    v = json.loads(sys.argv[1])
    for k in sys.argv[2].split("."): v = v[k]
    print(v)
except Exception:
    print("-")' "$1" "$2"; }

# The namespace's own lease (busybox udhcpc), so that dnsperf and curl have an address.
cat >"$WORK/udhcpc.sh" <<'EOF'
#!/bin/sh
[ "$1" = bound ] && ip addr replace "$ip/$mask" dev "$interface"
exit 0
EOF
chmod +x "$WORK/udhcpc.sh"
# dnsperf input: 1000 distinct names (the appliance answers every A with itself), looped for DNS_SECS.
python3 -c 'import random
r = random.Random(2048)
probes = ["connectivitycheck.gstatic.com", "captive.apple.com", "www.msftconnecttest.com", "2048.home.arpa"]
for i in range(1000):
    print(probes[i % 4] if i % 10 == 0 else f"q{i}-{r.randrange(10**6)}.example.com", "A")' >"$WORK/queries"

dhcp_row() {  # LABEL COUNT WINDOW SEED
  local out
  out=$(timeout 120 ip netns exec "$NS" python3 tests/e2e/dhcp_clients.py "$VNS" "$2" --window "$3" --seed "$4" \
        --deadline 90 2>&1) || true
  python3 -c 'import json, sys
label, raw = sys.argv[1], sys.stdin.read()
try:
    r = json.loads(raw.strip().splitlines()[-1])
except Exception:
    print("| %s | - | - | - | - | - | - | %r |" % (label, raw.strip()[:200]))
    sys.exit()
print("| %s | %d (%d distinct) | %.3f | **%s** | %s | %s | %d / %d | %d |" % (label, r["leases"], r["distinct"],
      r["seconds"], r["leases_per_s"], r["lease_ms_p50"], r["lease_ms_p99"], r["retries"], r["naks"], len(r["failed"])))' "$1" <<<"$out"
}
dns_row() {  # OUTSTANDING
  local out
  out=$(timeout $((DNS_SECS + 30)) ip netns exec "$NS" dnsperf -s "$APPLIANCE" -d "$WORK/queries" -c 1 -q "$1" \
        -t 2 -l "$DNS_SECS" 2>&1) || true
  echo "$out" >>"$WORK/dnsperf.log"
  awk -v q="$1" '
    /Queries sent:/ { sent = $3 } /Queries completed:/ { done = $3 } /Queries lost:/ { lost = $3 " " $4 }
    /Response codes:/ { sub(/^ *Response codes: */, ""); codes = $0 }
    /Queries per second:/ { qps = $4 } /Average Latency/ { lat = $4 * 1000; min = $6; max = $8; sub(/,/, "", min); sub(/\)/, "", max) }
    END { if (qps == "") { print "| " q " | - | - | - | - | - | dnsperf failed |"; exit }
          printf "| %s | %s | %s | %s | **%.1f** | %.3f (min %.3f, max %.3f) | %s |\n", q, sent, done, lost, qps, lat, min * 1000, max * 1000, codes }' <<<"$out"
}

report=$WORK/report.md
{
  echo "## DHCP and DNS"; echo
  echo "- Date: $DATE; re-run with \`bench/network.sh\` (about MINUTES minutes this time)"
  echo "- Appliance: commit $(git rev-parse --short HEAD 2>/dev/null || echo ?)$(git diff --quiet HEAD -- kernel static 2>/dev/null || echo ' with uncommitted changes'); booted with \`./qemu.sh BOARD --no-build --tap $TAP\` (default bootargs: pool 10.42.0.10-10.42.0.250, lease 3600 s)"
  echo "- Network: TAP $TAP on bridge $BR, veth into namespace $NS; all clients run in that namespace (TCG guest, one vCPU)"
  echo "- Host: $(nproc) vCPU $(lscpu | sed -n 's/^Model name: *//p'); load average at start $LOAD_START, at end LOAD_END (shared host: other work may run alongside)"
  echo "- Tools: $(dnsperf -h 2>&1 | sed -n 's/^Version /dnsperf /p'); busybox $(busybox | head -1 | awk '{ print $2 }'); Python $(python3 -c 'import platform; print(platform.python_version())'); $(qemu-system-arm --version | head -1)"
  echo "- DHCP: \`tests/e2e/dhcp_clients.py\`, one raw AF_PACKET socket playing many phones (distinct MACs); each lease is DISCOVER → OFFER → REQUEST → ACK, with a retransmit after 1 s. \"one at a time\": $DHCP_SERIAL clients in turn; \"$WINDOW at a time\": $DHCP_WINDOWED more clients with up to $WINDOW transactions in flight. Lease time: DISCOVER sent → ACK received for one client."
  echo "  Then another boot with a /20 network and a pool of 4081 addresses: $DHCP_LARGE clients, $WINDOW at a time (the lease table grows to $DHCP_LARGE entries)."
  echo "- DNS: \`dnsperf -s $APPLIANCE -c 1 -q N -t 2 -l $DNS_SECS\` over 1000 distinct A queries (names under example.com plus the OS probe names), looped; N = queries outstanding. The appliance's UDP sockets queue 64 datagrams each way."
} >"$report"

boot() {  # BOARD [BOOTARGS]: wires the TAP and the namespace afresh, boots, leases the namespace's address
  local log=$WORK/${1#qemu-virt-}${2:+-big}.log end
  unwire; wire
  setsid ./qemu.sh "$1" --no-build --tap "$TAP" ${2:+--append "$2"} </dev/null >"$log" 2>&1 & GPID=$!
  end=$((SECONDS + BOOT_TIMEOUT))
  until grep -q "listening on http://$APPLIANCE:80/" "$log"; do
    running "$GPID" && ((SECONDS < end)) || { cat "$log" >&2; echo "$1 did not boot" >&2; exit 1; }
    sleep 0.05
  done
  timeout 30 ip netns exec "$NS" busybox udhcpc -i "$VNS" -n -q -f -t 5 -T 1 -s "$WORK/udhcpc.sh" >/dev/null 2>&1 \
    || { cat "$log" >&2; echo "$1: no lease for the namespace" >&2; exit 1; }
}
stats_line() {  # BEFORE AFTER: one Markdown bullet from two /stats.json
  local before=$1 after=$2
  echo "- /stats.json after: leases active $(jget "$after" leases.active) of $(jget "$after" leases.pool);" \
    "dhcp dropped $(jget "$after" dhcp.dropped), exhausted $(jget "$after" dhcp.exhausted);" \
    "dns queries $(jget "$after" dns.queries), bad $(jget "$after" dns.bad);" \
    "net rx_frames $(jget "$after" net.rx_frames), rx_dropped $(jget "$after" net.rx_dropped), tx_dropped $(jget "$after" net.tx_dropped);" \
    "heap high-water $(jget "$after" heap.high_water) B (at boot $(jget "$before" heap.high_water) B)"
}

for board in $BOARDS; do
  a=${board#qemu-virt-}
  log "$board: wiring $TAP/$BR/$NS and booting"
  boot "$board"
  before=$(stats)
  {
    echo; echo "### $a ($board)"; echo
    echo "| DHCP clients | leases | seconds | leases/s | lease ms p50 | lease ms p99 | retransmits / NAKs | failed |"
    echo "|---|---|---|---|---|---|---|---|"
  } >>"$report"
  log "$board: DHCP, $DHCP_SERIAL clients one at a time"
  dhcp_row "$DHCP_SERIAL, one at a time" "$DHCP_SERIAL" 1 1 >>"$report"
  log "$board: DHCP, $DHCP_WINDOWED clients $WINDOW at a time"
  dhcp_row "$DHCP_WINDOWED more, $WINDOW at a time" "$DHCP_WINDOWED" "$WINDOW" 2 >>"$report"
  {
    echo
    echo "| DNS queries outstanding | sent | completed | lost | queries/s | latency ms, average | response codes |"
    echo "|---|---|---|---|---|---|---|"
  } >>"$report"
  for q in $DNS_QUEUE; do
    log "$board: dnsperf, $q outstanding, $DNS_SECS s"
    dns_row "$q" >>"$report"
  done
  { echo; stats_line "$before" "$(stats)"; } >>"$report"
  stop_guest
  if ((DHCP_LARGE > 0)); then
    log "$board: DHCP, $DHCP_LARGE clients $WINDOW at a time, pool of 4081 ($BIG_POOL)"
    boot "$board" "$BIG_POOL"
    before=$(stats)
    {
      echo
      echo "Another boot with \`--append '$BIG_POOL'\` (a pool of 4081, near the table's bound of 4096):"
      echo
      echo "| DHCP clients | leases | seconds | leases/s | lease ms p50 | lease ms p99 | retransmits / NAKs | failed |"
      echo "|---|---|---|---|---|---|---|---|"
      dhcp_row "$DHCP_LARGE, $WINDOW at a time" "$DHCP_LARGE" "$WINDOW" 3
      echo; stats_line "$before" "$(stats)"
    } >>"$report"
    stop_guest
  fi
done
unwire

minutes=$(awk -v s=$((SECONDS - T_START)) 'BEGIN { printf "%.1f", s / 60 }')
sed -i -e "s/about MINUTES minutes/about $minutes minutes/" -e "s/at end LOAD_END/at end $(cut -d' ' -f1-3 /proc/loadavg)/" "$report"
cat >>"$report" <<'EOF'

Notes
- Lost DNS queries: dnsperf gives up on a query after 2 s. The appliance's UDP sockets queue 64 datagrams each
  way, so a burst of up to 64 outstanding queries is answered whole; a larger burst's surplus would be dropped
  in the socket buffer before the DNS server sees it, where no counter of the appliance's shows it
  (/stats.json `dns.queries` counts the queries answered; `rx_dropped` counts NIC drops only).
- At 1 outstanding, queries/s × average latency is well below 1: most of each round trip is dnsperf's own
  (host) time, so that row is client-bound; the 16 row is the appliance's figure.
- DHCP "failed": clients without an ACK after 5 tries of 1 s each. The large-pool row is slower per lease
  than the 241-address boot: the lease table is scanned per packet (owner lookup, active count), so the cost
  grows with the number of leases held.
- Figures are for QEMU TCG on a shared host: the guest's CPU is emulated, so they compare runs here, not boards.
EOF
cat "$report"
if [[ -n $OUT ]]; then
  tmp=$WORK/out
  # Drop the old section (up to the next "## " heading), keep the rest, append the new one at the end.
  [[ -f $OUT ]] && awk '/^## DHCP and DNS$/ { skip = 1; next } skip && /^## / { skip = 0 } !skip' "$OUT" >"$tmp" || : >"$tmp"
  sed -i -e :a -e '/^\n*$/{$d;N;ba' -e '}' "$tmp"  # drop trailing blank lines
  { [[ -s $tmp ]] && { cat "$tmp"; echo; }; cat "$report"; } >"$OUT"
  log "wrote the DHCP and DNS section of $OUT"
fi
log "done"
