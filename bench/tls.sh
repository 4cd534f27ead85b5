#!/usr/bin/env bash
# TLS benchmark of the appliance on the QEMU virt boards, with both heap
# allocators (linked_list_allocator, the default, and talc: Cargo feature
# `talc`). Prints Markdown and replaces (or appends) the "## TLS" section of bench/RESULTS.md.
#
# Per board and allocator, one guest booted with `--append https_slots=16`:
#   handshakes/s   openssl s_time -new -tls1_3 for $STIME s (full TLS 1.3
#                  handshakes, no resumption; rate = connections / real seconds)
#   heap/conn      $IDLE python ssl sockets that completed the handshake, held
#                  open; (/stats.json heap.used during - before) / $IDLE
#   wrk https      wrk -t2 -c16 -d${WRK}s --latency https://127.0.0.1:T/ (keep-alive,
#                  no certificate check): req/s, p50, p99
#   high-water     /stats.json heap.high_water after all of the above
#
# Usage: bench/tls.sh            (env: BOARDS, ALLOCS, STIME=10, WRK=10, IDLE=8, ROUNDS=2, NO_BUILD=1,
#                                 OUT=bench/RESULTS.md; OUT= prints only)
#        bench/tls.sh handshakes  full TLS 1.3 handshakes with the nginx harness's client
#                   (../shared/bench/tls-handshakes.py, or PEER_BENCH=dir) at CONCS ('1 4') for HSECS (15) s,
#                   HROUNDS (3) rounds, after PAUSE (5) s idle, on an image built with the Cargo feature
#                   kernel/tls-phases (its serial log gives the server's time per phase); replaces the
#                   section "## TLS handshakes: LABEL" (LABEL=now) of OUT. PHASES_DIR: the image folder
#                   (default bench/.cache/tls-build/phases; built unless NO_BUILD=1 and present).
# Images: bench/.cache/tls-build/{lla,talc}/BOARD/BOARD.bin (built with BUILD_DIR and
# KERNEL_FEATURES=talc, never touching build/). Host ports come from the kernel
# (bind port 0); only 127.0.0.1 traffic; every QEMU it starts is killed by PID.
# Bounded: each step has a timeout; ~35 s per guest, ~5 min for 2 rounds x 2 boards x 2
# allocators with the images built (NO_BUILD=1), plus ~1 min per image to build.
set -euo pipefail
cd "$(dirname "$0")/.."
BOARDS=${BOARDS:-"qemu-virt-armv7 qemu-virt-aarch64"}
ALLOCS=${ALLOCS:-"lla talc"}
STIME=${STIME:-10}; WRK=${WRK:-10}; IDLE=${IDLE:-8}; ROUNDS=${ROUNDS:-2}
CACHE=bench/.cache/tls-build
CA=build/tls/ca.pem
OUT=${OUT-bench/RESULTS.md}
cmdline="\`bench/tls.sh\` (BOARDS='$BOARDS' ALLOCS='$ALLOCS' STIME=$STIME WRK=$WRK IDLE=$IDLE ROUNDS=$ROUNDS)"
work=$(mktemp -d); qpid=
cleanup() { [ -z "$qpid" ] || { kill "$qpid" 2>/dev/null; wait "$qpid" 2>/dev/null || true; }; rm -rf "$work"; }
trap cleanup EXIT
trap 'exit 130' INT TERM
log() { echo "[tls.sh $(date -u +%T)] $*" >&2; }
for t in openssl wrk curl python3; do command -v $t >/dev/null || { echo "needs $t" >&2; exit 1; }; done
[ -f "$CA" ] || { echo "no $CA: run tools/build.sh first (it makes the demo CA)" >&2; exit 1; }

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
stats() { curl -s --max-time 5 "http://127.0.0.1:$port/stats.json"; }
jget() { python3 -c 'import json,sys; d=json.load(sys.stdin); 
for k in sys.argv[1].split("."): d=d[k]
print(d)' "$1"; }

# --- images ------------------------------------------------------------------------------------
[ "${1:-}" = handshakes ] || for a in $ALLOCS; do
  for b in $BOARDS; do
    img=$CACHE/$a/$b/$b.bin
    if [ -z "${NO_BUILD:-}" ] || [ ! -f "$img" ]; then
      log "build $b ($a)"
      feat=; [ "$a" = talc ] && feat=talc
      KERNEL_FEATURES=$feat BUILD_DIR=$CACHE/$a timeout 600 tools/build.sh "$b" >/dev/null
    fi
  done
done

# --- one guest ---------------------------------------------------------------------------------
boot() {  # board alloc
  port=$(free_port); tport=$(free_port)
  while [ "$tport" = "$port" ]; do tport=$(free_port); done
  BUILD_DIR=$CACHE/$2 ./qemu.sh "$1" --no-build --port "$port" --tls-port "$tport" \
      --append 'https_slots=16' >"$work/console-$1-$2.log" 2>&1 </dev/null &
  qpid=$!
  local i st
  for i in $(seq 1 120); do
    st=$(stats | jget tls.self_test 2>/dev/null || true)
    case "$st" in passed) return 0 ;; failed|off) log "$1 $2: TLS self-test $st"; return 1 ;; esac
    kill -0 "$qpid" 2>/dev/null || { log "$1 $2: QEMU exited"; tail -5 "$work/console-$1-$2.log" >&2; return 1; }
    sleep 0.5
  done
  log "$1 $2: no /stats.json after 60 s"; return 1
}
halt() { [ -z "$qpid" ] || { kill "$qpid" 2>/dev/null; wait "$qpid" 2>/dev/null || true; qpid=; }; }

measure() {  # board alloc -> one result line "key=value ..."
  local b=$1 a=$2 out hs0 hs1 f0 f1 rate n real used0 used1 perconn wrk_out rps p50 p99 errs hw
  boot "$b" "$a" || { echo "error=boot"; halt; return; }
  hs0=$(stats | jget tls.handshakes); f0=$(stats | jget tls.failures)
  # handshakes/s
  local t0 t1
  t0=$(date +%s.%N)
  out=$(timeout $((STIME + 30)) openssl s_time -connect "127.0.0.1:$tport" -new -tls1_3 -time "$STIME" 2>&1 || true)
  t1=$(date +%s.%N)
  # s_time's own "real seconds" is whole seconds: use the wall clock around it instead.
  n=$(sed -n 's/^\([0-9]*\) connections in [0-9.]* real seconds.*/\1/p' <<<"$out" | head -1)
  real=$(python3 -c "import sys; print(f'{float(sys.argv[2])-float(sys.argv[1]):.2f}')" "$t0" "$t1")
  rate=$(python3 -c "import sys; n,r=sys.argv[1:]; print(f'{int(n)/float(r):.1f}' if n and float(r or 0)>0 else 'n/a')" "${n:-}" "${real:-0}")
  hs1=$(stats | jget tls.handshakes); f1=$(stats | jget tls.failures)
  # heap per idle TLS connection
  sleep 1
  used0=$(stats | jget heap.used)
  perconn=$(timeout 60 python3 - "$tport" "$IDLE" "$port" "$CA" <<'PY'
import json, socket, ssl, sys, time, urllib.request
tport, n, port, ca = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
ctx = ssl.create_default_context(cafile=ca)
ctx.minimum_version = ssl.TLSVersion.TLSv1_3
conns = []
for _ in range(n):
    s = socket.create_connection(("127.0.0.1", tport), timeout=10)
    conns.append(ctx.wrap_socket(s, server_hostname="127.0.0.1"))  # handshake done (cert verified)
time.sleep(1)
used = json.load(urllib.request.urlopen(f"http://127.0.0.1:{port}/stats.json", timeout=5))["heap"]["used"]
print(used)
for c in conns: c.close()
PY
)
  used1=$perconn
  perconn=$(( (used1 - used0) / IDLE ))
  sleep 1
  # wrk over HTTPS, 16 connections
  wrk_out=$(timeout $((WRK + 30)) wrk -t2 -c16 -d"${WRK}s" --latency "https://127.0.0.1:$tport/" 2>&1 || true)
  rps=$(awk '/^Requests\/sec:/ {print $2}' <<<"$wrk_out")
  p50=$(awk '$1=="50%" {print $2}' <<<"$wrk_out")
  p99=$(awk '$1=="99%" {print $2}' <<<"$wrk_out")
  errs=$(awk '/Socket errors|Non-2xx/ {printf "%s ", $0}' <<<"$wrk_out")
  sleep 1
  hw=$(stats | jget heap.high_water); used_end=$(stats | jget heap.used)
  halt
  echo "rate=$rate n=${n:-0} real=${real:-0} hs=$((hs1 - hs0)) fail=$((f1 - f0)) used0=$used0 used1=$used1 perconn=$perconn rps=${rps:-n/a} p50=${p50:-n/a} p99=${p99:-n/a} hw=$hw used_end=$used_end errs='${errs% }'"
}

# --- handshakes mode: rate, median and the server's per-phase time --------------------------------
phase_fields="reseed setup key_share key_agreement signature transcript key_schedule records rustls_other server_cpu wall"
handshakes_mode() {
  local dir=${PHASES_DIR:-$CACHE/phases} label=${LABEL:-now} hsecs=${HSECS:-15} concs=${CONCS:-1 4}
  local hrounds=${HROUNDS:-3} pause=${PAUSE:-5} client b r c line before
  client=${PEER_BENCH:-../shared/bench}/tls-handshakes.py
  [ -f "$client" ] || { echo "no $client (set PEER_BENCH)" >&2; exit 1; }
  declare -A H
  for b in $BOARDS; do
    if [ -z "${NO_BUILD:-}" ] || [ ! -f "$dir/$b/$b.bin" ]; then
      log "build $b (tls-phases) into $dir"
      KERNEL_FEATURES=kernel/tls-phases BUILD_DIR=$dir timeout 900 tools/build.sh "$b" >/dev/null
    fi
    mkdir -p "$CACHE"; ln -sfn "$(cd "$dir" && pwd)" "$CACHE/hs"
    boot "$b" hs || { H[$b/error]=boot; halt; continue; }
    sleep "$pause"
    # Warm-up (not counted): moves the boot self-test out of the phase sums.
    timeout 60 python3 "$client" 127.0.0.1 "$tport" 3 1 >/dev/null || true
    for r in $(seq 1 "$hrounds"); do
      for c in $concs; do
        before=$(grep -c 'TLS phases:' "$work/console-$b-hs.log" || true)
        line=$(timeout $((hsecs + 60)) python3 "$client" 127.0.0.1 "$tport" "$hsecs" "$c" || true)
        sleep 1
        H[$b/$r/$c]="$line"
        H[$b/$r/$c/phases]=$({ grep 'TLS phases:' "$work/console-$b-hs.log" || true; } | tail -n +$((before + 1)) | sed 's/.*TLS phases: //' | tr '\n' ';')
        log "$b round $r conc $c: $line"
      done
    done
    H[$b/boot]=$({ grep -o 'TLS self-test passed.*' "$work/console-$b-hs.log" || true; } | head -1)
    halt
  done
  {
    echo "## TLS handshakes: $label"
    echo
    echo "$(date -u '+%Y-%m-%d %H:%M UTC'), \`bench/tls.sh handshakes\` (BOARDS='$BOARDS' HSECS=$hsecs CONCS='$concs' HROUNDS=$hrounds LABEL='$label'), commit $(git rev-parse --short HEAD)$(git diff --quiet HEAD -- kernel || echo '+changes'), host $(nproc) CPUs, load $(cut -d' ' -f1-3 /proc/loadavg), QEMU $(qemu-system-arm --version | head -1 | awk '{print $4}') (TCG)."
    echo "Client: \`tls-handshakes.py 127.0.0.1 T $hsecs CONC\` (the nginx harness's: Python ssl, new TCP connection per handshake, no resumption); image \`${dir#$PWD/}\` (built with \`KERNEL_FEATURES=kernel/tls-phases\`), default https_slots; all traffic on 127.0.0.1."
    echo
    echo "| board | round | conns | handshakes/s | median ms | p90 ms | p99 ms | errors | group | signature |"
    echo "|---|---:|---:|---:|---:|---:|---:|---:|---|---|"
    for b in $BOARDS; do
      [ -z "${H[$b/error]:-}" ] || { echo "| $b | | | error: ${H[$b/error]} | | | | | | |"; continue; }
      for r in $(seq 1 "$hrounds"); do for c in $concs; do
        l=${H[$b/$r/$c]}
        f() { sed -n "s/.*\b$1=\([^ ]*\).*/\1/p" <<<"$l"; }
        echo "| $b | $r | $c | $(f rate) | $(f median_ms) | $(f p90_ms) | $(f p99_ms) | $(f errors) | $(f group) | $(f sig) |"
      done; done
    done
    echo
    echo "Server time per handshake by phase (µs, kernel clock; mean over the handshakes of all rounds at that"
    echo "concurrency, from the \`TLS phases:\` lines the image logs every 100 handshakes; see kernel/src/services/tls/phases.rs;"
    echo "server_cpu is the sum of the phases, wall the server's accept → handshake done, waits for the client included):"
    echo
    echo "| board | conns | handshakes | $(sed 's/ / | /g' <<<"$phase_fields") |"
    echo "|---|---:|---:|$(for _ in $phase_fields; do printf '%s' '---:|'; done)"
    for b in $BOARDS; do
      [ -z "${H[$b/error]:-}" ] || continue
      for c in $concs; do
        all=$(for r in $(seq 1 "$hrounds"); do echo -n "${H[$b/$r/$c/phases]}"; done)
        python3 - "$b" "$c" "$phase_fields" "$all" <<'PY'
import sys
board, conc, fields, lines = sys.argv[1], sys.argv[2], sys.argv[3].split(), [l for l in sys.argv[4].split(";") if l.strip()]
tot, sums = 0, dict.fromkeys(fields, 0)
for l in lines:
    kv = dict(p.split("=") for p in l.split())
    n = int(kv["n"]); tot += n
    for f in fields: sums[f] += int(kv.get(f, 0)) * n
cells = [str(round(sums[f] / tot)) if tot else "n/a" for f in fields]
print(f"| {board} | {conc} | {tot} | " + " | ".join(cells) + " |")
PY
      done
    done
    echo
    for b in $BOARDS; do [ -z "${H[$b/boot]:-}" ] || echo "- $b boot: ${H[$b/boot]}"; done
  } >"$work/report.md"
  cat "$work/report.md"
  if [ -n "$OUT" ]; then
    local title="## TLS handshakes: $label"
    [ -f "$OUT" ] && awk -v t="$title" '$0 == t { skip = 1; next } skip && /^## / { skip = 0 } !skip' "$OUT" >"$work/rest.md" || : >"$work/rest.md"
    { [ -s "$work/rest.md" ] && { cat "$work/rest.md"; echo; }; cat "$work/report.md"; } >"$OUT"
    log "wrote the section '$title' of $OUT"
  fi
}
if [ "${1:-}" = handshakes ]; then handshakes_mode; exit 0; fi

# ROUNDS rounds, allocators alternating within each board, so a noisy host (other
# guests, 2 CPUs) hits both alike; the comparison uses the mean over rounds.
declare -A R
for r in $(seq 1 "$ROUNDS"); do
  for b in $BOARDS; do
    for a in $ALLOCS; do
      log "round $r: $b / $a"
      R[$b/$a/$r]=$(measure "$b" "$a")
      log "  ${R[$b/$a/$r]}"
    done
  done
done

# --- report ------------------------------------------------------------------------------------
get() { sed -n "s/.*\b$2=\([^ ]*\).*/\1/p" <<<"${R[$1]}"; }
name() { [ "$1" = talc ] && echo "talc 4.4" || echo "linked_list_allocator 0.10"; }
ms() { python3 -c "import re,sys; v=sys.argv[1]; m=re.match(r'([0-9.]+)(us|ms|s)$',v); print(f'{float(m[1])*{\"us\":0.001,\"ms\":1,\"s\":1000}[m[2]]:.2f}' if m else 'n/a')" "$1"; }
mean() {  # board/alloc field: mean over the rounds (times in ms)
  local r v vals=()
  for r in $(seq 1 "$ROUNDS"); do
    v=$(get "$1/$r" "$2"); [ "$2" = p99 ] && v=$(ms "$v")
    vals+=("$v")
  done
  python3 -c "import sys
v=[float(x) for x in sys.argv[1:] if x not in ('','n/a')]
print(f'{sum(v)/len(v):.{0 if sys.argv[1:] and all(x.isdigit() for x in sys.argv[1:]) else 1}f}' if v else 'n/a')" "${vals[@]}"
}
pct() { python3 -c "import sys
try: a,b=float(sys.argv[1]),float(sys.argv[2]); print(f'{(b/a-1)*100:+.1f}%')
except Exception: print('n/a')" "$1" "$2"; }
{
  echo "## TLS"
  echo
  echo "$(date -u '+%Y-%m-%d %H:%M UTC'), $cmdline, host $(nproc) CPUs, QEMU $(qemu-system-arm --version | head -1 | awk '{print $4}') (TCG)."
  echo "Guests booted with \`--append https_slots=16\`; all traffic on 127.0.0.1 through QEMU user-mode forwarding."
  echo
  echo "- **handshakes/s**: \`openssl s_time -connect 127.0.0.1:T -new -tls1_3 -time $STIME\` — sequential full TLS 1.3 handshakes (no resumption), connections / real seconds; *server count* is the delta of /stats.json \`tls.handshakes\` (failures in brackets)."
  echo "- **heap/conn**: $IDLE Python \`ssl\` sockets that completed a verified TLS 1.3 handshake (build/tls/ca.pem), held open; (heap.used during − before) / $IDLE."
  echo "- **wrk**: \`wrk -t2 -c16 -d${WRK}s --latency https://127.0.0.1:T/\` (keep-alive, 16 HTTPS connections, no certificate check)."
  echo "- **high-water**: /stats.json \`heap.high_water\` after all three loads (since boot; includes boot and the TLS self-test)."
  echo
  echo "| board | allocator | round | handshakes/s | server count | heap/conn (B) | wrk req/s | p50 (ms) | p99 (ms) | heap high-water (B) | heap used after (B) |"
  echo "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
  for b in $BOARDS; do for a in $ALLOCS; do for r in $(seq 1 "$ROUNDS"); do
    k=$b/$a/$r
    if [ -n "$(get "$k" error)" ]; then echo "| $b | $(name "$a") | $r | error: $(get "$k" error) | | | | | | | |"; continue; fi
    echo "| $b | $(name "$a") | $r | $(get "$k" rate) | $(get "$k" hs) ($(get "$k" fail)) | $(get "$k" perconn) | $(get "$k" rps) | $(ms "$(get "$k" p50)") | $(ms "$(get "$k" p99)") | $(get "$k" hw) | $(get "$k" used_end) |"
  done; done; done
  errs=$(for k in $(printf '%s\n' "${!R[@]}" | sort); do e=$(sed -n "s/.*errs='\([^']*\)'.*/\1/p" <<<"${R[$k]}"); [ -z "$e" ] || echo "- $k: $e"; done)
  [ -z "$errs" ] || { echo; echo "wrk errors:"; echo "$errs"; }
  if [[ " $ALLOCS " == *" lla "* && " $ALLOCS " == *" talc "* ]]; then
    echo
    echo "### talc vs linked_list_allocator (talc relative to linked_list_allocator)"
    echo
    echo "Means over $ROUNDS round(s): linked_list_allocator → talc (change)."
    echo
    echo "| board | handshakes/s | wrk req/s | wrk p99 (ms) | heap high-water (B) | heap/conn (B) |"
    echo "|---|---:|---:|---:|---:|---:|"
    for b in $BOARDS; do
      row="| $b |"
      for f in rate rps p99 hw perconn; do
        x=$(mean "$b/lla" $f); y=$(mean "$b/talc" $f)
        row="$row $x → $y ($(pct "$x" "$y")) |"
      done
      echo "$row"
    done
    echo
    echo "Higher is better for handshakes/s and req/s, lower for p99, high-water and heap/conn."
    echo "(talc's \`used\` counts requested bytes, as linked_list_allocator's does; talc is kept only if clearly (>10%) better.)"
  fi
} > "$work/report.md"
cat "$work/report.md"
if [ -n "$OUT" ]; then
  [ -f "$OUT" ] && awk '/^## TLS$/ { skip = 1; next } skip && /^## / { skip = 0 } !skip' "$OUT" >"$work/rest.md" || : >"$work/rest.md"
  { [ -s "$work/rest.md" ] && { cat "$work/rest.md"; echo; }; cat "$work/report.md"; } >"$OUT"
  log "wrote the TLS section of $OUT"
fi
