#!/usr/bin/env bash
# The soak: the appliance on a TAP device for an hour under a booth's mixed traffic from a phone
# namespace (bench/soak_clients.py: HTTP keep-alive and close, HTTPS, DNS, slowloris, clients that vanish
# mid-response or stop reading) and DHCP churn from a second namespace (busybox udhcpc with a new MAC
# each time, releasing its lease on exit). Well-behaved clients must see zero failures; /stats.json is
# sampled every minute, and once the clients stop and the hostile connections time out, the heap and
# the open-connections gauge must be back where they started.
#
# Usage: bench/soak.sh [SECONDS]   (default 3600)
# Env:   BOARD (qemu-virt-armv7), NO_BUILD=1 (boot the last build), OUT (bench/RESULTS.md; empty: print only)
# Needs root. Exits 1 if a well-behaved client failed or a gauge did not come back. The guest runs in its
# own session and is stopped by its process-group id; the namespaces and links are removed at exit.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
. tools/apt.sh
. bench/section.sh
. bench/tap.sh
[[ $(id -u) == 0 ]] || { echo "bench/soak.sh needs root (TAP device, network namespaces)" >&2; exit 1; }
SECS=${1:-3600}; [[ $SECS =~ ^[0-9]+$ ]] || { echo "usage: $0 [SECONDS]" >&2; exit 2; }
apt_install qemu-system-arm curl busybox iproute2 python3
BOARD=${BOARD:-qemu-virt-armv7}; OUT=${OUT-bench/RESULTS.md}
N=2062; NS=phone$N; DHCP_NS=dhcp$N; TAP=tap$N
CACHE=$ROOT/bench/.cache; LOGS=$CACHE/logs; WORK=$(mktemp -d); CHURN=
mkdir -p "$LOGS"
log() { echo "[soak $SECONDS s] $*" >&2; }
ns() { ip netns exec "$NS" "$@"; }
stats() { ns curl -s -m 5 http://10.42.0.1/stats.json; }
field() { python3 -c 'import json, sys; d = json.loads(sys.argv[1]); [d := d[k] for k in sys.argv[2].split(".")]; print(d)' "$1" "$2"; }

WIRING=("$NS:vphone$N:vhost$N" "$DHCP_NS:vdhcp$N:vdhost$N")
wire() {
  tap_wire "$N" "${WIRING[@]}"
  ns ip addr add 10.42.0.5/24 dev "vphone$N"  # outside the DHCP pool (10.42.0.10-250) the churn draws from
}
cleanup() {
  [[ -z $CHURN ]] || kill "$CHURN" 2>/dev/null || true
  stop_guest
  tap_unwire "$N" "${WIRING[@]}"; rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

churn() {  # a phone joins and leaves, with a new MAC each time: a lease granted, then released
  local joined=0 refused=0 mac client=
  # Stopped while a phone holds its lease: that phone leaves too, releasing it.
  trap '[[ -z $client ]] || { kill -TERM "$client" 2>/dev/null; wait "$client" 2>/dev/null; }; exit 0' TERM
  # While bound the address is on the link and the server's MAC known (a ping): udhcpc sends its
  # RELEASE from that address, and no ARP exchange is left pending when it exits.
  printf '%s\n' '#!/bin/sh' 'case $1 in' \
    "  bound) busybox ifconfig \"\$interface\" \"\$ip\" netmask \"\$subnet\"; busybox ping -c 1 -W 2 \"\$serverid\" >/dev/null; touch $WORK/bound ;;" \
    '  deconfig) busybox ifconfig "$interface" 0.0.0.0 ;;' 'esac' >"$WORK/bound.sh"
  chmod +x "$WORK/bound.sh"
  while :; do
    mac=$(printf '02:%02x:%02x:%02x:%02x:%02x' $((RANDOM % 256)) $((RANDOM % 256)) $((RANDOM % 256)) $((RANDOM % 256)) $((RANDOM % 256)))
    ip netns exec "$DHCP_NS" ip link set "vdhcp$N" address "$mac"
    rm -f "$WORK/bound"
    # -R: udhcpc sends a RELEASE when it is told to stop, once it is bound
    ip netns exec "$DHCP_NS" busybox udhcpc -f -R -i "vdhcp$N" -t 5 -T 2 -s "$WORK/bound.sh" >/dev/null 2>&1 & client=$!
    for _ in {1..100}; do [[ -f $WORK/bound ]] && break; kill -0 "$client" 2>/dev/null || break; sleep 0.2; done
    if [[ -f $WORK/bound ]]; then joined=$((joined + 1)); else refused=$((refused + 1)); fi
    kill -TERM "$client" 2>/dev/null || true; wait "$client" 2>/dev/null || true
    echo "$joined $refused" >"$WORK/churn"
    sleep 1
  done
}

[[ -n ${NO_BUILD:-} ]] || tools/build.sh "$BOARD" >/dev/null
img=$CACHE/soak-img  # a snapshot: other work may rebuild build/ meanwhile
mkdir -p "$img/$BOARD"; cp "build/$BOARD/$BOARD.bin" "$img/$BOARD/$BOARD.bin"
[[ -f build/tls/ca.pem ]] || { echo "no build/tls/ca.pem (tools/build.sh makes it)" >&2; exit 1; }
DATE=$(date -u '+%Y-%m-%d %H:%M UTC'); LOAD_START=$(cut -d' ' -f1-3 /proc/loadavg)
wire
start_guest "env BUILD_DIR=$img ./qemu.sh $BOARD --no-build --tap $TAP --disk none" "$LOGS/soak.log"
deadline=$((SECONDS + 120))
until grep -q "TLS self-test passed" "$LOGS/soak.log"; do
  ((SECONDS < deadline)) && kill -0 "$PID" 2>/dev/null || { cat "$LOGS/soak.log" >&2; echo "the appliance did not come up" >&2; exit 1; }
  sleep 0.2
done
start=$(stats); echo "$start" >"$WORK/start.json"
log "up; soaking for $SECS s"
churn & CHURN=$!
ns python3 bench/soak_clients.py "$SECS" static build/tls/ca.pem >"$WORK/clients.json" 2>"$LOGS/soak-clients.log" &
clients=$!
: >"$WORK/samples"
while kill -0 "$clients" 2>/dev/null; do
  s=$(stats || true); [[ -n $s ]] && echo "$s" >>"$WORK/samples"
  for _ in {1..60}; do kill -0 "$clients" 2>/dev/null || break; sleep 1; done
done
wait "$clients" || { cat "$LOGS/soak-clients.log" >&2; echo "the soak clients failed" >&2; exit 1; }
kill "$CHURN" 2>/dev/null || true; wait "$CHURN" 2>/dev/null || true; CHURN=
read -r joined refused <"$WORK/churn"
# The hostile connections end by the appliance's timeouts (at most 10 s); then every gauge must be back.
start_open=$(field "$start" connections.open); start_used=$(field "$start" heap.used)
deadline=$((SECONDS + 60))
while :; do
  end=$(stats || true)
  [[ -n $end && $(field "$end" connections.open) -le $((start_open + 1)) ]] && break
  ((SECONDS < deadline)) || break
  sleep 1
done
echo "$end" >"$WORK/end.json"
python3 - "$WORK" "$joined" "$refused" "$SECS" "$BOARD" "$DATE" "$LOAD_START" >"$WORK/report.md" <<'PY'
import json, sys
work, joined, refused, secs, board, date, load = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), *sys.argv[4:]
clients = json.load(open(f"{work}/clients.json"))
start, end = json.load(open(f"{work}/start.json")), json.load(open(f"{work}/end.json"))
samples = [json.loads(line) for line in open(f"{work}/samples") if line.strip()]
used = [s["heap"]["used"] for s in samples]
print("## Soak (bench/soak.sh)\n")
print(f"- Date: {date}; command: `bench/soak.sh {secs}`; board {board} on TAP from a phone namespace; host load average at start: {load} (2 cores).")
print("- Traffic (bench/soak_clients.py): 4 keep-alive browsers, 2 `Connection: close` clients, 1 HTTPS client (new connection each, verified")
print("  against the demo CA), DNS every 0.2 s; hostile: 8 slowloris, 2 clients that reset mid-download, 4 that stop reading;")
print("  DHCP churn from a second namespace (busybox udhcpc, a new MAC each time, lease released on exit).\n")
print("| well-behaved | ok | failed |\n|---|---|---|")
for kind in clients["ok"]:
    print(f"| {kind} | {clients['ok'][kind]} | {clients['failed'][kind]} |")
print(f"| DHCP joins | {joined} | {refused} |\n")
print("| hostile | count |\n|---|---|")
for kind, n in clients["hostile"].items():
    print(f"| {kind} | {n} |")
print()
print("| gauge | start | end |\n|---|---|---|")
for label, get in [("connections open", lambda s: s["connections"]["open"]), ("heap used (B)", lambda s: s["heap"]["used"]),
                   ("heap high-water (B)", lambda s: s["heap"]["high_water"]), ("leases active", lambda s: s.get("leases", {}).get("active", 0))]:
    print(f"| {label} | {get(start)} | {get(end)} |")
print()
print(f"- Heap used over {len(samples)} samples (one a minute): min {min(used, default=0)}, max {max(used, default=0)} B.")
print(f"- Counters at the end: requests {end['requests']}, timed_out {end['timed_out']}, evicted {end['evicted']}, bad_requests {end['bad_requests']},"
      f" syn_held {end['net']['syn_held']}, TLS handshakes {end['tls']['handshakes']} (failures {end['tls']['failures']}), DNS queries {end['dns']['queries']},"
      f" dhcp queue_full {end['dhcp']['queue_full']}, dns queue_full {end['dns']['queue_full']}.")
failed = sum(clients["failed"].values()) + refused
leases = lambda s: s.get("leases", {}).get("active", 0)
back = end["connections"]["open"] <= start["connections"]["open"] + 1 and end["heap"]["used"] <= start["heap"]["used"] + 4096 and leases(end) <= leases(start)
for line in clients["failures"]:
    print(f"  - failure: {line}")
print(f"- Verdict: {'PASS' if failed == 0 and back else 'FAIL'}: {failed} well-behaved failures; gauges {'back where they started' if back else 'NOT back'}"
      " (connections within 1, the one reading /stats.json; heap within 4 KiB; no lease left held).")
PY
cat "$WORK/report.md"
if [[ -n $OUT ]]; then write_section "## Soak (bench/soak.sh)" "$WORK/report.md" "$OUT"; log "wrote the Soak section of $OUT"; fi
grep -q "Verdict: PASS" "$WORK/report.md"
