#!/usr/bin/env bash
# Load over TAP: wrk from a phone network namespace, wired to the guest's NIC through a TAP device and a
# bridge, so QEMU user networking (its listen backlog of 1, its own copies) is out of the measurement.
# Three guests on the same QEMU machine and memory, one at a time, in one run: the appliance, Linux +
# nginx (../shared/bench/peer-nginx.sh) and Linux + busybox httpd (../shared/bench/peer-linux.sh), all
# serving the game (static/; the peers get a copy). Rows: wrk at each of CONNS connections, keep-alive
# and `Connection: close`, for / and the largest asset; req/s, p50, p99, requests, errors, and for the
# appliance its heap high-water after each row (/stats.json).
#
# Usage: bench/load.sh           (about 10 minutes; the peers' first run downloads Debian packages)
# Env:   BOARD (qemu-virt-armv7; or qemu-virt-aarch64), CONNS ('1 16 64 256 1000'), DUR (5 s per row),
#        GUESTS ('appliance nginx busybox'), APPEND (the appliance's bootargs: 'http_slots=1024', so the
#        1,000-connection rows fit in slots), NO_BUILD=1 (boot the last build), PEER_DIR
#        (../shared/bench), OUT (bench/RESULTS.md; empty: print only).
# Needs root (TAP, namespace). Every guest runs in its own session and is stopped by its process-group
# id, also on errors and ^C; the namespace and links are removed at exit. Load goes only to the namespace.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
. tools/apt.sh
. bench/section.sh
. bench/tap.sh
[[ $(id -u) == 0 ]] || { echo "bench/load.sh needs root (TAP device, network namespace)" >&2; exit 1; }
apt_install qemu-system-arm wrk curl busybox iproute2 cpio xz-utils binutils openssl

BOARD=${BOARD:-qemu-virt-armv7}; ARCH=${BOARD#qemu-virt-}
CONNS=${CONNS:-1 16 64 256 1000}; DUR=${DUR:-5}; GUESTS=${GUESTS:-appliance nginx busybox}
APPEND=${APPEND:-http_slots=1024}; PEER_DIR=${PEER_DIR:-$ROOT/../shared/bench}; OUT=${OUT-bench/RESULTS.md}
case $ARCH in armv7|aarch64) ;; *) echo "BOARD must be qemu-virt-armv7 or qemu-virt-aarch64" >&2; exit 2 ;; esac
PEER_DIR=$(cd "$PEER_DIR" && pwd)
LARGEST=/$(cd static && ls -S | head -1)
PATHS="/ $LARGEST"
N=2060; NS=phone$N; TAP=tap$N
CACHE=$ROOT/bench/.cache; PEER=$CACHE/load-peer; LOGS=$CACHE/logs; WORK=$(mktemp -d)
mkdir -p "$LOGS"
DHCPD=
log() { echo "[load $SECONDS s] $*" >&2; }
ns() { ip netns exec "$NS" "$@"; }

WIRING="$NS:vphone$N:vhost$N"
wire() {  # the phone namespace on both guests' subnets
  tap_wire "$N" "$WIRING"
  ns ip addr add 10.0.2.2/24 dev "vphone$N"      # the peers' gateway (their static address is 10.0.2.15)
  ns ip addr add 10.42.0.250/24 dev "vphone$N"   # beside the appliance (10.42.0.1)
}
cleanup() {
  stop_guest
  [[ -z $DHCPD ]] || kill "$DHCPD" 2>/dev/null || true
  tap_unwire "$N" "$WIRING"; rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

wait_serving() {  # $1: URL; up to 120 s for a 200 from inside the namespace
  local deadline=$((SECONDS + 120))
  until ns curl -s -o /dev/null -m 2 -f "$1"; do
    ((SECONDS < deadline)) && kill -0 "$PID" 2>/dev/null || return 1
    sleep 0.2
  done
}
on_tap() {  # a peer's QEMU command with its user-network NIC moved onto the TAP device
  sed -E "s/-netdev user,id=n0,[^ ]*/-netdev tap,id=n0,ifname=$TAP,script=no,downscript=no/" <<<"$1"
}
to_ms() { awk '{ v = $1 + 0; u = $1; sub(/^[0-9.]+/, "", u); m = (u == "us") ? 0.001 : (u == "s") ? 1000 : (u == "m") ? 60000 : 1; printf "%.2f", v * m }'; }

rows() {  # $1: guest name, $2: base URL, $3: 1 to read the heap from /stats.json
  local name=$1 url=$2 heap=$3 mode path c out rps p50 p99 n err hw
  ns wrk -t1 -c4 -d2s "$url/" >/dev/null  # warm-up, not reported
  for mode in keep-alive close; do
    for path in $PATHS; do
      for c in $CONNS; do
        local header=(); [[ $mode == close ]] && header=(-H "Connection: close")
        out=$(ns wrk -t1 -c"$c" -d"${DUR}s" --timeout 10s --latency "${header[@]}" "$url$path" 2>&1) || true
        rps=$(awk '/^Requests\/sec/ { print $2 }' <<<"$out")
        p50=$(awk '$1 == "50%" { print $2 }' <<<"$out" | to_ms); p99=$(awk '$1 == "99%" { print $2 }' <<<"$out" | to_ms)
        n=$(awk '/requests in/ { print $1 }' <<<"$out")
        err=$(awk '/Socket errors|Non-2xx/ { sub(/^ +/, ""); printf "%s%s", s, $0; s = "; " }' <<<"$out")
        hw=-
        if [[ $heap == 1 ]]; then
          hw=$(ns curl -s -m 5 "$url/stats.json" | python3 -c 'import json, sys; print(json.load(sys.stdin)["heap"]["high_water"])' 2>/dev/null || echo "?")
        fi
        echo "| $name | $mode | $path | $c | ${rps:-0} | ${p50:-} | ${p99:-} | ${n:-0} | ${err:-0} | $hw |"
        echo "$name $mode $path $c ${rps:-0} ${p99:-?}" >>"$WORK/figures"
        log "$name $mode $path c=$c: ${rps:-0} req/s, p99 ${p99:-?} ms, errors ${err:-0}"
        sleep 1
      done
    done
  done
}

run_appliance() {
  [[ -n ${NO_BUILD:-} ]] || tools/build.sh "$BOARD" >/dev/null
  local img=$CACHE/load-img  # a snapshot: other work may rebuild build/ meanwhile
  mkdir -p "$img/$BOARD"; cp "build/$BOARD/$BOARD.bin" "$img/$BOARD/$BOARD.bin"
  start_guest "env BUILD_DIR=$img ./qemu.sh $BOARD --no-build --tap $TAP --disk none --append '$APPEND'" "$LOGS/load-appliance.log"
  wait_serving http://10.42.0.1/ || { cat "$LOGS/load-appliance.log" >&2; echo "the appliance did not serve" >&2; exit 1; }
  grep -o "with [0-9]* slots" "$LOGS/load-appliance.log" | head -1 >"$WORK/slots" || true
  rows appliance http://10.42.0.1 1
  stop_guest
}

peer_setup() {  # the shared scripts, unmodified, through symlinks next to a copy of the game (their www/)
  mkdir -p "$PEER"
  ln -sfn "$PEER_DIR/peer-nginx.sh" "$PEER/peer-nginx.sh"; ln -sfn "$PEER_DIR/peer-linux.sh" "$PEER/peer-linux.sh"
  rm -rf "$PEER/www"; cp -a static "$PEER/www"
}
run_nginx() {
  local cmd
  cmd=$(NET=static "$PEER/peer-nginx.sh" "$ARCH" cmd 2>"$LOGS/load-nginx-build.log") || { cat "$LOGS/load-nginx-build.log" >&2; exit 1; }
  start_guest "$(on_tap "$cmd")" "$LOGS/load-nginx.log"
  wait_serving http://10.0.2.15/ || { tail -20 "$LOGS/load-nginx.log" >&2; echo "nginx did not serve" >&2; exit 1; }
  rows nginx http://10.0.2.15 0
  stop_guest
}
run_busybox() {  # its initramfs asks DHCP for an address: busybox udhcpd in the namespace hands it 10.0.2.15
  local cmd
  cmd=$("$PEER/peer-linux.sh" "$ARCH" cmd 2>"$LOGS/load-busybox-build.log") || { cat "$LOGS/load-busybox-build.log" >&2; exit 1; }
  printf 'start 10.0.2.15\nend 10.0.2.15\ninterface vphone%s\nlease_file %s/leases\nopt subnet 255.255.255.0\nopt router 10.0.2.2\n' "$N" "$WORK" >"$WORK/udhcpd.conf"
  : >"$WORK/leases"
  ns busybox udhcpd -f "$WORK/udhcpd.conf" >"$LOGS/load-udhcpd.log" 2>&1 & DHCPD=$!
  start_guest "$(on_tap "$cmd")" "$LOGS/load-busybox.log"
  wait_serving http://10.0.2.15/ || { tail -20 "$LOGS/load-busybox.log" >&2; echo "busybox httpd did not serve" >&2; exit 1; }
  rows busybox http://10.0.2.15 0
  stop_guest
  kill "$DHCPD" 2>/dev/null || true; DHCPD=
}

ulimit -n "$(ulimit -Hn)"  # wrk holds a descriptor per connection
DATE=$(date -u '+%Y-%m-%d %H:%M UTC'); LOAD_START=$(cut -d' ' -f1-3 /proc/loadavg)
wire
[[ $GUESTS == *nginx* || $GUESTS == *busybox* ]] && peer_setup
: >"$WORK/table"
for guest in $GUESTS; do
  case $guest in appliance|nginx|busybox) log "$guest"; "run_$guest" >>"$WORK/table" ;; *) echo "unknown guest $guest" >&2; exit 2 ;; esac
done

{
  echo "## Load over TAP (bench/load.sh)"; echo
  echo "- Date: $DATE; command: \`$(printf '%q ' env BOARD="$BOARD" CONNS="$CONNS" DUR="$DUR" GUESTS="$GUESTS") bench/load.sh\`;" \
    "host load average at start: $LOAD_START (2 cores); $(qemu-system-arm --version | head -1); $(ns wrk -v 2>&1 | head -1 | cut -d' ' -f1-2)."
  echo "- Each guest on \`$BOARD\`'s QEMU machine with 128 MiB, one at a time, its NIC on TAP $TAP, bridged to a veth in"
  echo "  namespace $NS where wrk runs (\`wrk -t1 -cN -d${DUR}s --timeout 10s --latency\`, plus \`-H 'Connection: close'\`)."
  echo "- The appliance booted with \`$APPEND\` ($(cat "$WORK/slots" 2>/dev/null || echo "slots: see its log")); nginx 1.22 (1 worker, 1,024"
  echo "  connections, sendfile, keep-alive) and busybox httpd (a process per connection) from $PEER_DIR, on the same Debian"
  echo "  kernel, serving a copy of static/. Paths: / (index.html, $(stat -c %s static/index.html) B) and the largest asset $LARGEST ($(stat -c %s "static$LARGEST") B), no gzip (wrk does not ask)."
  echo "- heap high-water: the appliance's /stats.json after the row (bytes, since boot)."
  echo
  echo "| guest | mode | path | conns | req/s | p50 ms | p99 ms | requests | errors | heap high-water |"
  echo "|---|---|---|---|---|---|---|---|---|---|"
  cat "$WORK/table"
  echo
  echo "Side by side (req/s; p99 ms in brackets):"
  echo
  python3 - "$WORK/figures" "$CONNS" <<'PY'
import sys
rows = [line.split() for line in open(sys.argv[1])]
conns = sys.argv[2].split()
guests = list(dict.fromkeys(r[0] for r in rows))
fig = {(g, m, p, c): (rps, p99) for g, m, p, c, rps, p99 in rows}
print("| mode | path | conns | " + " | ".join(guests) + " |")
print("|---|---|---|" + "---|" * len(guests))
for m, p in dict.fromkeys((r[1], r[2]) for r in rows):
    for c in conns:
        cells = [f"{fig[(g, m, p, c)][0]} ({fig[(g, m, p, c)][1]})" if (g, m, p, c) in fig else "-" for g in guests]
        print(f"| {m} | {p} | {c} | " + " | ".join(cells) + " |")
PY
} >"$WORK/report.md"
cat "$WORK/report.md"
if [[ -n $OUT ]]; then
  write_section "## Load over TAP (bench/load.sh)" "$WORK/report.md" "$OUT"
  log "wrote the section 'Load over TAP' of $OUT"
fi
