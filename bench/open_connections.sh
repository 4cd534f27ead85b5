#!/usr/bin/env bash
# What open connections cost the new ones: wrk at CONNS connections against the appliance over TAP,
# alone and then right after IDLE idle keep-alive connections have taken the slots in front of wrk's.
# The network stack (smoltcp) finds a received segment's socket by walking its socket set in order, and
# visits every socket for egress on each poll, so each open connection adds to every segment's cost;
# this is the figure behind load.sh's throughput falling past 64 connections.
#
# Usage: bench/open_connections.sh
# Env:   BOARD (qemu-virt-armv7), IDLE (900), CONNS (16), ROUNDS (3), DUR (3 s per wrk run: the idle
#        connections are held within the appliance's 5 s keep-alive timeout, without a request that
#        would add load), NO_BUILD=1 (boot the last build), OUT (bench/RESULTS.md; empty: print only).
# Needs root (TAP, namespace). The guest runs in its own session and is stopped by its process-group id;
# the namespace and links are removed at exit. Load goes only to the namespace.
set -euo pipefail
cd "$(dirname "$0")/.."
. tools/apt.sh
. bench/section.sh
. bench/tap.sh
[[ $(id -u) == 0 ]] || { echo "bench/open_connections.sh needs root (TAP device, network namespace)" >&2; exit 1; }
apt_install qemu-system-arm wrk curl iproute2 python3
BOARD=${BOARD:-qemu-virt-armv7}; IDLE=${IDLE:-900}; CONNS=${CONNS:-16}; ROUNDS=${ROUNDS:-3}; DUR=${DUR:-3}
OUT=${OUT-bench/RESULTS.md}
for v in IDLE CONNS ROUNDS DUR; do [[ ${!v} =~ ^[0-9]+$ ]] || { echo "$v must be a number" >&2; exit 2; }; done
((IDLE + CONNS <= 1024 && DUR < 5)) || { echo "IDLE + CONNS must fit in 1024 slots, DUR under the 5 s keep-alive timeout" >&2; exit 2; }
N=2064; NS=phone$N; TAP=tap$N; WIRING="$NS:vphone$N:vhost$N"; WORK=$(mktemp -d); HOLDER=
ns() { ip netns exec "$NS" "$@"; }
cleanup() { stop_guest; [[ -z $HOLDER ]] || kill "$HOLDER" 2>/dev/null || true; tap_unwire "$N" "$WIRING"; rm -rf "$WORK"; }
trap cleanup EXIT
trap 'exit 130' INT TERM
rps() { ns wrk -t1 -c"$CONNS" -d"${DUR}s" --timeout 10s http://10.42.0.1/ | awk '/^Requests\/sec/ { print $2 }'; }

[[ -n ${NO_BUILD:-} ]] || tools/build.sh "$BOARD" >/dev/null
ulimit -n "$(ulimit -Hn)"
tap_wire "$N" "$WIRING"; ns ip addr add 10.42.0.250/24 dev "vphone$N"
DATE=$(date -u '+%Y-%m-%d %H:%M UTC'); LOAD_START=$(cut -d' ' -f1-3 /proc/loadavg)
start_guest "./qemu.sh $BOARD --no-build --tap $TAP --disk none --append http_slots=1024" "$WORK/guest.log"
deadline=$((SECONDS + 120))
until ns curl -s -o /dev/null -m 2 -f http://10.42.0.1/; do
  ((SECONDS < deadline)) && kill -0 "$PID" 2>/dev/null || { cat "$WORK/guest.log" >&2; echo "the appliance did not serve" >&2; exit 1; }
  sleep 0.2
done
ns wrk -t1 -c4 -d2s http://10.42.0.1/ >/dev/null  # warm-up, not reported

: >"$WORK/rows"
for round in $(seq "$ROUNDS"); do
  alone=$(rps)
  rm -f "$WORK/held"
  # IDLE connections, each served once (so idle keep-alive, in the lowest free slots), then held.
  ns python3 - "$IDLE" "$WORK/held" "$DUR" <<'PY' &
import socket, sys, time
count, ready, hold = int(sys.argv[1]), sys.argv[2], float(sys.argv[3]) + 2
held = []
for _ in range(count):
    s = socket.create_connection(("10.42.0.1", 80), timeout=5)
    s.sendall(b"GET /stats.json HTTP/1.1\r\nHost: 2048.home.arpa\r\n\r\n")
    held.append(s)
for s in held:
    s.recv(65536)
open(ready, "w").write(str(len(held)))
time.sleep(hold)
PY
  HOLDER=$!
  deadline=$((SECONDS + 30))
  until [[ -s $WORK/held ]]; do
    ((SECONDS < deadline)) && kill -0 "$HOLDER" || { echo "the idle connections were not all served" >&2; exit 1; }
    sleep 0.05
  done
  behind=$(rps)
  wait "$HOLDER"; HOLDER=
  [[ -n $alone && -n $behind ]] || { echo "wrk gave no figure (round $round)" >&2; exit 1; }
  echo "| $round | $alone | $behind | $(python3 -c "print(f'{$behind / $alone:.2f}')") |" >>"$WORK/rows"
  echo "round $round: alone $alone req/s, behind $IDLE idle $behind req/s" >&2
  sleep 6  # the appliance closes the idle ones (5 s keep-alive timeout) before the next round
done

{
  echo "## Open connections (bench/open_connections.sh)"; echo
  echo "- Date: $DATE; command: \`$(printf '%q ' env BOARD="$BOARD" IDLE="$IDLE" CONNS="$CONNS" ROUNDS="$ROUNDS" DUR="$DUR") bench/open_connections.sh\`;" \
    "host load average at start: $LOAD_START (2 cores); $(qemu-system-arm --version | head -1)."
  echo "- \`$BOARD\` with \`http_slots=1024\` on TAP from a namespace. Each round: \`wrk -t1 -c$CONNS -d${DUR}s\` on / alone, then"
  echo "  again right after $IDLE keep-alive connections were each served once and held idle (they took the lowest free slots,"
  echo "  which come first in the stack's socket set)."
  echo
  echo "| round | req/s alone | req/s behind $IDLE idle | ratio |"
  echo "|---|---|---|---|"
  cat "$WORK/rows"
} >"$WORK/report.md"
cat "$WORK/report.md"
[[ -z $OUT ]] || write_section "## Open connections (bench/open_connections.sh)" "$WORK/report.md" "$OUT"
