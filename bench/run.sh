#!/usr/bin/env bash
# Benchmarks the appliance on each emulated board: the QEMU virt boards next to their peer (Debian Linux +
# busybox httpd on the same QEMU, measured by the shared harness in $PEER_DIR), and the Allwinner boards
# QEMU emulates (orangepi-pc, cubieboard: no peer, the harness has none for those machines). Prints the
# report and writes bench/RESULTS.md.
#
# Usage: bench/run.sh            (about 20 minutes; the peer's first run also downloads two Debian kernels)
#
# Per guest: measure.sh (launch to first 200, floor, wrk at 1/16/64 connections, QEMU RSS, image size);
# for the appliance also the kernel's own entry -> listening time (its serial log), launch -> that
# line by the host clock, heap high-water after load (/stats.json), a Connection: close run and
# http_slots=64; for both, the QEMU process's host CPU while idle. The Allwinner boards boot with -kernel
# and no device tree, so bootargs (--append) don't reach them: no crash=panic floor, no http_slots=64 row.
# Every image is built (tools/build.sh BOARD) and copied to bench/.cache/img/ before the first measurement;
# the guests boot those copies (other work may rebuild build/ meanwhile).
#
# Env: PORT (28080: host port forwarded to the guest's :80; only 127.0.0.1 is used), RUNS (5 boots),
#      DUR (10 s per wrk row), IDLE (10 s idle-CPU window), SETTLE (15 s), BOARDS (the virt boards, then
#      orangepi-pc and cubieboard),
#      NO_BUILD=1 (boot the last build), NO_PEER=1 (appliance only), PEER_DIR (/work/shared/bench),
#      OUT (bench/RESULTS.md).
# Every QEMU runs in its own session and is stopped by its process-group id, also on errors and ^C.
# The peer's downloads and images go to bench/.cache/peer/ (ignored by git); console logs to
# bench/.cache/logs/.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
WANT_BOARDS=${BOARDS:-}
. tools/boards.sh

export PORT=${PORT:-28080} RUNS=${RUNS:-5} DUR=${DUR:-10} SETTLE=${SETTLE:-15} BOOT_TIMEOUT=${BOOT_TIMEOUT:-60}
export CONNS="1 16 64"
# every board QEMU emulates: the virt boards and the Allwinner boards with a QEMU machine
EMULATED=$BOARDS; for b in $ALLWINNER_BOARDS; do board_info "$b"; [[ -z $QEMU ]] || EMULATED+=" $b"; done
virt() { [[ $1 == qemu-virt-* ]]; }
NO_BOOTARGS="n/a (no bootargs with -kernel)"
IDLE=${IDLE:-10}; BOARDS=${WANT_BOARDS:-$EMULATED}; PEER_DIR=${PEER_DIR:-/work/shared/bench}
OUT=${OUT:-bench/RESULTS.md}; CACHE=$ROOT/bench/.cache; LOGS=$CACHE/logs; URL=http://127.0.0.1:$PORT
T_START=$SECONDS; DATE=$(date -u '+%Y-%m-%d %H:%M UTC'); LOAD_START=$(cut -d' ' -f1-3 /proc/loadavg)
log() { echo "[bench $(( SECONDS - T_START ))s] $*" >&2; }

# --- host tools --------------------------------------------------------------------------------------
need=()
for pair in qemu-system-arm:qemu-system-arm qemu-system-aarch64:qemu-system-arm wrk:wrk curl:curl \
            python3:python3 cpio:cpio xz:xz-utils /usr/bin/time:time gzip:gzip; do
  command -v "${pair%%:*}" >/dev/null 2>&1 || need+=("${pair#*:}")
done
if ((${#need[@]})); then
  mapfile -t need < <(printf '%s\n' "${need[@]}" | sort -u)
  log "installing: ${need[*]}"
  sudo=; [[ $(id -u) -eq 0 ]] || sudo=sudo
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q "${need[@]}" >&2 \
    || { $sudo apt-get update -q >&2; DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q "${need[@]}" >&2; }
fi
[[ -x $PEER_DIR/measure.sh && -f $PEER_DIR/first200.py ]] || { echo "no measure.sh in $PEER_DIR" >&2; exit 1; }
if (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null; then echo "port $PORT is already in use (set PORT=)" >&2; exit 1; fi

# --- process bookkeeping -----------------------------------------------------------------------------
WORK=$(mktemp -d); GROUPS_=()  # process-group ids (= session ids) of everything started here
running() { [[ $(ps -o stat= -p "$1" 2>/dev/null || true) =~ ^[^Z] ]]; }
stop_group() {  # SIGTERM a process group, SIGKILL after 10 s, reap
  local g=$1
  kill -- -"$g" 2>/dev/null || true
  for _ in {1..100}; do running "$g" || break; sleep 0.1; done
  kill -KILL -- -"$g" 2>/dev/null || true; wait "$g" 2>/dev/null || true
}
forget() { local g keep=(); for g in "${GROUPS_[@]}"; do [[ $g == "$1" ]] || keep+=("$g"); done; GROUPS_=("${keep[@]}"); }
cleanup() { local g; for g in "${GROUPS_[@]}"; do stop_group "$g"; done; rm -rf "$WORK"; }
trap cleanup EXIT; trap 'exit 130' INT TERM
GPID=
start_guest() {  # CMD LOGFILE: QEMU in the background, own session; GPID = its PID (bash execs QEMU)
  setsid bash -c "exec $1" </dev/null >>"$2" 2>&1 & GPID=$!; GROUPS_+=("$GPID"); }
stop_guest() { [[ -z $GPID ]] || { stop_group "$GPID"; forget "$GPID"; }; GPID=; }
wait_200() {  # up to $1 s for an HTTP 200 on /
  local end=$((SECONDS + $1))
  while ((SECONDS < end)); do
    running "$GPID" || return 1
    [[ $(curl -s -m 1 -o /dev/null -w '%{http_code}' "$URL/" || true) == 200 ]] && return 0
    sleep 0.05
  done; return 1
}
cpu_ticks() { sed 's/^.*) //' "/proc/$1/stat" | awk '{ print $12 + $13 }'; }  # utime + stime
idle_figure() {  # PID SECONDS: host CPU of PID over that window, % of one CPU ("< x" below one tick)
  local a b t0 t1 hz; hz=$(getconf CLK_TCK)
  a=$(cpu_ticks "$1"); t0=$EPOCHREALTIME; sleep "$2"; b=$(cpu_ticks "$1"); t1=$EPOCHREALTIME
  IDLE_TICKS=$((b - a))
  if ((IDLE_TICKS == 0)); then awk -v s="$2" -v hz="$hz" 'BEGIN { printf "< %.2g\n", 100 / hz / s }'
  else awk -v d="$IDLE_TICKS" -v t0="$t0" -v t1="$t1" -v hz="$hz" 'BEGIN { printf "%.1f\n", d / hz / (t1 - t0) * 100 }'; fi
}
median() { printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 }
  END { if (!NR) print "-"; else print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
to_ms() { awk '{ v = $1 + 0; u = $1; sub(/^[0-9.]+/, "", u); m = (u == "us") ? 0.001 : (u == "s") ? 1000 : (u == "m") ? 60000 : 1; printf "%.2f", v * m }'; }
wrk_row() {  # LABEL CONNS SECONDS PATH [wrk args]: one Markdown row
  local out rps p50 p99 n err
  out=$(wrk -t1 -c"$2" -d"$3s" --timeout 10s --latency "${@:5}" "$URL$4" 2>&1) || true
  rps=$(awk '/^Requests\/sec/ { print $2 }' <<<"$out")
  p50=$(awk '$1 == "50%" { print $2 }' <<<"$out" | to_ms); p99=$(awk '$1 == "99%" { print $2 }' <<<"$out" | to_ms)
  n=$(awk '/requests in/ { print $1 }' <<<"$out")
  err=$(awk '/Socket errors|Non-2xx/ { sub(/^ +/, ""); printf "%s%s", s, $0; s = "; " }' <<<"$out")
  echo "| $1 | $4 | $2 | ${rps:--} | ${p50:--} | ${p99:--} | ${n:--} | ${err:-0} |"
}
stats_json() { curl -s -m 5 "$URL/stats.json" || true; }
jget() {  # JSON KEY.PATH: a field of /stats.json, or "-"
  python3 -c 'import json, sys
try:
    v = json.loads(sys.argv[1])
    for k in sys.argv[2].split("."): v = v[k]
    print(v)
except Exception:
    print("-")' "$1" "$2"; }
kib() { [[ $1 =~ ^[0-9]+$ ]] && awk -v b="$1" 'BEGIN { printf "%.1f KiB", b / 1024 }' || echo "$1"; }

# --- the appliance's QEMU command: what ./qemu.sh BOARD --no-build --port $PORT execs -----------------
# qemu.sh runs "$QEMU" from PATH: a stub that prints its arguments gives the exact command line, which
# is then run directly (as the peer's is), booting a snapshot of the image (other work may rebuild
# build/ meanwhile).
mkdir -p "$WORK/stub" "$LOGS" "$CACHE/img"
for q in qemu-system-arm qemu-system-aarch64; do
  printf '#!/usr/bin/env bash\nprintf "%%s\\0" "$@"\n' >"$WORK/stub/$q"; chmod +x "$WORK/stub/$q"
done
qemu_cmd() {  # BOARD [BOOTARGS]
  local board=$1 args=() i
  board_info "$board"
  mapfile -d '' args < <(PATH=$WORK/stub:$PATH ./qemu.sh "$board" --no-build --port "$PORT" ${2:+--append "$2"} 2>/dev/null)
  ((${#args[@]})) || { echo "could not get the QEMU command from qemu.sh" >&2; return 1; }
  for ((i = 0; i < ${#args[@]}; i++)); do [[ ${args[i]} == -kernel ]] && args[i + 1]=bench/.cache/img/$board.bin; done
  quote "$QEMU" "${args[@]}"
}
quote() {  # ARGS: one shell command line, quoting only the words that need it
  local a out=()
  for a in "$@"; do
    if [[ $a =~ ^[A-Za-z0-9_./:=,+@%-]+$ ]]; then out+=("$a"); else out+=("'${a//\'/\'\\\'\'}'"); fi
  done
  echo "${out[*]}"
}

# --- measure.sh for one guest ------------------------------------------------------------------------
declare -A V  # figures for the summary, keyed "ARCH/GUEST/what"
run_measure() {  # KEY CMD FLOOR IMAGES PATHS: measure.sh's report to $WORK/KEY.md, console log to $LOGS
  local key=$1 name=${1//\//-} rc=0 m
  log "$key: measure.sh ($RUNS boots, ${3:+floor, }wrk ${CONNS// //} conns on $5)"
  NAME=$name FLOOR=$3 IMAGES=$4 PATHS=$5 LOG=$LOGS/$name.log SUMMARY=$WORK/$name.summary \
    setsid bash "$PEER_DIR/measure.sh" "$2" >"$WORK/$name.md" 2>"$WORK/$name.err" &
  m=$!; GROUPS_+=("$m"); wait "$m" || rc=$?; forget "$m"
  if ((rc)); then
    log "$key: measure.sh failed ($rc): $(tail -2 "$WORK/$name.err")"
    printf '\n**measure.sh failed (exit %s): %s**; console log: bench/.cache/logs/%s.log\n' \
      "$rc" "$(tail -1 "$WORK/$name.err")" "$name" >>"$WORK/$name.md"
  fi
  local md=$WORK/$name.md
  # GET after the settle without a reply (000): the guest stopped answering; its wrk rows are zeros
  V[$key/stalled]=$(grep -q '^- GET [^:]*: 000' "$md" && echo 1 || true)
  V[$key/launch]=$(sed -n 's/.*Launch to first HTTP 200.*\*\*median \([0-9.]*\)\*\*.*/\1/p' "$md")
  V[$key/floor]=$(sed -n 's/.*Floor, launch to exit.*\*\*median \([0-9.]*\)\*\*.*/\1/p' "$md")
  V[$key/rss]=$(sed -n 's/.*peak (VmHWM) after the load tests \([0-9]*\) MiB.*/\1/p' "$md")
  V[$key/raw]=$(awk -F' *[|] *' '$2 == "total" { print $3 }' "$md"); V[$key/gz]=$(awk -F' *[|] *' '$2 == "total" { print $4 }' "$md")
  local p c
  for p in $5; do for c in $CONNS; do
    V[$key/rps$p@$c]=$(awk -F' *[|] *' -v p="$p" -v c="$c" '$2 == p && $3 == c { print $4 }' "$md")
    V[$key/p50$p@$c]=$(awk -F' *[|] *' -v p="$p" -v c="$c" '$2 == p && $3 == c { print $5 }' "$md")
    V[$key/p99$p@$c]=$(awk -F' *[|] *' -v p="$p" -v c="$c" '$2 == p && $3 == c { print $6 }' "$md")
  done; done
}

# --- the appliance -----------------------------------------------------------------------------------
largest=$(find static -type f -printf '%s %P\n' | sort -n | tail -1 | cut -d' ' -f2-)
APP_PATHS="/ /$largest"; [[ -f static/app.js && $largest != app.js ]] && APP_PATHS+=" /app.js"
COMMIT=$(git rev-parse --short HEAD 2>/dev/null || echo unknown)
[[ -z $(git status --porcelain -- kernel boards static tools Cargo.toml Cargo.lock 2>/dev/null) ]] || COMMIT+=" with uncommitted changes"

# all images first, each copied as soon as it is built: the measurements boot these snapshots
for board in $BOARDS; do
  board_info "$board"; [[ -n $QEMU ]] || { echo "$board: QEMU has no such machine" >&2; exit 1; }
  if [[ -z ${NO_BUILD:-} ]]; then log "$board: tools/build.sh"; tools/build.sh "$board" >/dev/null; fi
  cp "${BUILD_DIR:-build}/$board/$board.bin" "bench/.cache/img/$board.bin"
done

appliance() {  # BOARD
  local board=$1 arch=${1#qemu-virt-} key cmd out k h line= s0= s1= s64= p floor=
  key=$arch/app; out=$WORK/$arch-app.extra
  cmd=$(qemu_cmd "$board"); V[$key/cmd]=$cmd
  virt "$board" && floor=$(qemu_cmd "$board" crash=panic)
  run_measure "$key" "$cmd" "$floor" "bench/.cache/img/$board.bin" "$APP_PATHS"

  # kernel clock: "listening on ... (+X ms)" of the measured boots (the first RUNS in measure.sh's log)
  mapfile -t k < <(grep -aoE 'listening on .*\(\+[0-9.]+ ms\)' "$LOGS/$arch-app.log" | head -n "$RUNS" \
    | sed -E 's/.*\(\+([0-9.]+) ms\)/\1/')
  V[$key/listen]=$(median "${k[@]}"); V[$key/listen_all]="${k[*]}"
  # the unpacker's share: "entry at X ms after power-on" (the generic timer counts from QEMU's start;
  # on the A10, which has none, the kernel's clock starts at its entry and the line says ~0)
  mapfile -t k < <(grep -aoE 'entry at [0-9.]+ ms after power-on' "$LOGS/$arch-app.log" | head -n "$RUNS" \
    | sed -E 's/entry at ([0-9.]+) ms.*/\1/')
  V[$key/entry]=$(median "${k[@]}"); V[$key/entry_all]="${k[*]}"
  # bytes the kernel unpacks to: the descriptor's kernel_len (unpack/src/main.rs)
  V[$key/unpacked]=$(python3 -c 'import sys; d = open(sys.argv[1], "rb").read(); print(int.from_bytes(d[0x58:0x5c], "little") if d[0x40:0x48] == b"2048PACK" else "-")' "bench/.cache/img/$board.bin")
  # host clock: launch -> the same console line, RUNS more boots
  log "$key: launch -> listening line, $RUNS boots"
  h=()
  for _ in $(seq "$RUNS"); do
    line=$(python3 bench/console_time.py "$BOOT_TIMEOUT" 'listening on' "$cmd" || true)
    [[ -n $line ]] && h+=("${line%% *}")
  done
  V[$key/hostlisten]=$(median "${h[@]}"); V[$key/hostlisten_all]="${h[*]}"

  # one more boot: idle CPU, then load, then /stats.json
  log "$key: idle CPU ${IDLE}s, load, /stats.json"
  : >"$LOGS/$arch-app-extra.log"
  start_guest "$cmd" "$LOGS/$arch-app-extra.log"
  if wait_200 "$BOOT_TIMEOUT"; then
    sleep 2; idle_figure "$GPID" "$IDLE" >"$WORK/idle"; V[$key/idle]=$(<"$WORK/idle"); s0=$(stats_json)
    {
      echo "| run | path | conns | req/s | p50 ms | p99 ms | requests | errors |"; echo "|---|---|---|---|---|---|---|---|"
      for p in $APP_PATHS; do wrk_row "keep-alive, $((DUR / 2)) s" 64 $((DUR / 2)) "$p"; sleep 1; done
      line=$(wrk_row "Connection: close, $DUR s" 16 "$DUR" / -H 'Connection: close'); echo "$line"
    } >"$WORK/$arch-app.load"
    V[$key/close16]=$(awk -F' *[|] *' '{ print $5 }' <<<"$line")
    s1=$(stats_json)
    V[$key/heap_hw]=$(jget "$s1" heap.high_water)
  else
    echo "guest did not answer; see bench/.cache/logs/$arch-app-extra.log" >"$WORK/$arch-app.load"; V[$key/idle]=-
  fi
  stop_guest
  # 64 connections with 64 slots
  local cmd64 row64
  if virt "$board"; then
    log "$key: http_slots=64, wrk 64 conns"
    cmd64=$(qemu_cmd "$board" http_slots=64); start_guest "$cmd64" "$LOGS/$arch-app-extra.log"
    if wait_200 "$BOOT_TIMEOUT"; then
      sleep 1; row64=$(wrk_row "http_slots=64, keep-alive, $DUR s" 64 "$DUR" /); s64=$(stats_json)
    else row64="| http_slots=64 | / | 64 | guest did not answer | | | | |"; fi
    stop_guest
  fi
  {
    echo "- Unpacking (the image's first stage inflating the kernel to ${V[$key/unpacked]} bytes), seen as \"entry at X ms after power-on\" in the $RUNS boots above, ms: ${V[$key/entry_all]}; **median ${V[$key/entry]}**"
    echo "- Entry → listening, kernel clock (\"listening on … (+X ms)\" of the $RUNS boots above, ms): ${V[$key/listen_all]}; **median ${V[$key/listen]}**"
    echo "- Launch → that console line, host clock ($RUNS more boots, \`bench/console_time.py\`, ms): ${V[$key/hostlisten_all]}; **median ${V[$key/hostlisten]}**"
    if virt "$board"; then
      echo "- Floor command (boot to NIC up, then \`crash=panic\`: the kernel panics and QEMU exits): \`$floor\`"
    else
      echo "- Floor (\`crash=panic\`): $NO_BOOTARGS: QEMU passes this board no device tree with -kernel, so \`--append\` does not reach the kernel"
    fi
    echo "- One more boot: host CPU of the QEMU process over ${IDLE} s of idle, 2 s after its first 200: **${V[$key/idle]} %** of one CPU (${IDLE_TICKS:-?} ticks of 1/$(getconf CLK_TCK) s)"
    echo "- /stats.json before the load: heap used $(kib "$(jget "$s0" heap.used)"), high-water $(kib "$(jget "$s0" heap.high_water)")"
    echo "- Load on the same boot (wrk -t1 --timeout 10s; http_slots=16, the default):"; echo
    cat "$WORK/$arch-app.load"; echo
    [[ -n $s1 ]] || echo "- **No reply to /stats.json after that load: the guest had stopped answering** (console: bench/.cache/logs/$arch-app-extra.log)"
    echo "- /stats.json after that load: heap used $(kib "$(jget "$s1" heap.used)"), **high-water $(kib "$(jget "$s1" heap.high_water)")**;" \
      "requests $(jget "$s1" requests), bad_requests $(jget "$s1" bad_requests), connections peak $(jget "$s1" connections.peak)," \
      "evicted $(jget "$s1" evicted), timed_out $(jget "$s1" timed_out), rx_dropped $(jget "$s1" net.rx_dropped), tx_dropped $(jget "$s1" net.tx_dropped)"
    if virt "$board"; then
      echo "- Another boot with \`--append http_slots=64\`:"; echo
      echo "| run | path | conns | req/s | p50 ms | p99 ms | requests | errors |"; echo "|---|---|---|---|---|---|---|---|"
      echo "$row64"; echo
      echo "- /stats.json after it: heap high-water $(kib "$(jget "$s64" heap.high_water)"), connections peak $(jget "$s64" connections.peak), evicted $(jget "$s64" evicted)"
    else
      echo "- \`http_slots=64\` boot: $NO_BOOTARGS"
    fi
  } >"$out"
}

# --- the peer ----------------------------------------------------------------------------------------
# peer-linux.sh keeps its cache next to itself ($HERE/.cache) and /work/shared is read-only: run it
# through a symlink in bench/.cache/peer/ (so it is the shared script, unmodified) next to a copy of www/.
PEER=$CACHE/peer
peer_setup() {
  mkdir -p "$PEER"; ln -sfn "$PEER_DIR/peer-linux.sh" "$PEER/peer-linux.sh"
  rm -rf "$PEER/www"; cp -a "$PEER_DIR/www" "$PEER/www"
}
peer() {  # ARCH
  local arch=$1 key=$1/peer cmd
  log "$key: peer-linux.sh build"
  "$PEER/peer-linux.sh" "$arch" build >"$LOGS/$arch-peer-build.log" 2>&1 \
    || { echo "**peer build failed; see bench/.cache/logs/$arch-peer-build.log**" >"$WORK/$arch-peer.md"; return 0; }
  cmd=$("$PEER/peer-linux.sh" "$arch" cmd 2>/dev/null); V[$key/cmd]=$cmd
  run_measure "$key" "$cmd" "$("$PEER/peer-linux.sh" "$arch" floor-cmd 2>/dev/null)" \
    "$PEER/.cache/$arch/Image $PEER/.cache/$arch/initrd.cpio" "/ /app.js"
  log "$key: idle CPU ${IDLE}s"
  : >"$LOGS/$arch-peer-extra.log"; start_guest "$cmd" "$LOGS/$arch-peer-extra.log"
  if wait_200 "$BOOT_TIMEOUT"; then sleep 2; idle_figure "$GPID" "$IDLE" >"$WORK/idle"; V[$key/idle]=$(<"$WORK/idle"); else V[$key/idle]=-; fi
  stop_guest
  echo "- One more boot: host CPU of the QEMU process over ${IDLE} s of idle, 2 s after its first 200: **${V[$key/idle]} %** of one CPU (${IDLE_TICKS:-?} ticks of 1/$(getconf CLK_TCK) s)" >"$WORK/$arch-peer.extra"
  V[$key/pkgs]=$(paste -sd ';' "$PEER/.cache/$arch/versions.txt" | sed 's/;/; /g')
}

[[ -n ${NO_PEER:-} ]] || peer_setup
for board in $BOARDS; do
  appliance "$board"
  [[ -n ${NO_PEER:-} ]] || ! virt "$board" || peer "${board#qemu-virt-}"
done

# --- report ------------------------------------------------------------------------------------------
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (a + 0 > 0 && b + 0 > 0) printf "%.1f", a / b; else print "-" }'; }
verdict() { [[ $1 == - || -z $1 ]] && echo "not measured" || { awk -v v="$1" -v t="$2" -v op="$3" \
  'BEGIN { ok = (op == "<") ? (v < t) : (v >= t); print ok ? "met" : "**not met**" }'; }; }
LOAD_END=$(cut -d' ' -f1-3 /proc/loadavg); MINUTES=$(( (SECONDS - T_START + 30) / 60 ))
sizes() { local f; for f in $(cd static && find . -type f | sort); do printf '%s %s B, ' "${f#./}" "$(stat -c %s "static/$f")"; done | sed 's/, $//'; }
# Sections other scripts own (tools/fuzz.sh, bench/network.sh) come last; keep them.
prev_fuzz=$([[ -f $OUT ]] && awk '/^## (Fuzzing|DHCP and DNS|TLS)/ { f = 1 } f' "$OUT" || true)
{
  echo "# Benchmark: the appliance on each emulated board, and its peer (Debian Linux + busybox httpd) on the virt boards, under QEMU (TCG)"; echo
  echo "- Date: $DATE; re-run with \`bench/run.sh\` (about $MINUTES minutes this time)"
  echo "- Appliance: commit $COMMIT; $(grep -m1 '^version' Cargo.toml | sed 's/ *= */ /;s/"//g'); images built by \`tools/build.sh BOARD\`, booted with the command \`./qemu.sh BOARD --no-build --port $PORT\` runs (given per board below)"
  echo "- Boards (what \`qemu.sh\` runs): $(for b in $BOARDS; do board_info "$b"
      echo -n "$b: \`${QEMU_MACHINE#-M }\`, -m $QEMU_RAM, NIC ${QEMU_NIC:-virtio-net-device (virtio-mmio)}; "; done | sed 's/; $//')"
  echo "- Peer: \`$PEER_DIR/peer-linux.sh\` and \`measure.sh\`, run here in the same session (not copied figures);" \
    "$(for a in ${BOARDS//qemu-virt-/}; do [[ -n ${V[$a/peer/pkgs]:-} ]] && echo -n "$a: ${V[$a/peer/pkgs]}. "; done)The Allwinner boards have no peer: the harness runs Debian on the virt machines only (there is no peer harness for orangepi-pc or cubieboard)."
  echo "- Host: $(nproc) vCPU $(lscpu | sed -n 's/^Model name: *//p'), $(free -g | awk '/^Mem:/ { print $2 }') GiB," \
    "$(. /etc/os-release && echo "$PRETTY_NAME"), kernel $(uname -r); load average at start $LOAD_START, at end $LOAD_END" \
    "(the host is shared: other work may run alongside)"
  echo "- Tools: $(qemu-system-arm --version | head -1); wrk $(dpkg-query -W -f '${Version}' wrk 2>/dev/null || echo ?);" \
    "$(curl --version | head -1 | cut -d' ' -f1-2); Python $(python3 -c 'import platform; print(platform.python_version())')"
  echo "- Settings: $RUNS boots; wrk -t1 --timeout 10s, $DUR s per row after a 2 s warm-up; $SETTLE s idle between boot" \
    "and load; all traffic to 127.0.0.1:$PORT (QEMU user networking). Appliance paths: ${APP_PATHS// /, } (largest" \
    "file in static/: $largest); peer paths: /, /app.js."
  echo "- Content: the appliance serves static/ ($(sizes)); the peer serves $PEER_DIR/www (index.html 4096 B," \
    "app.js 20480 B, style.css 8192 B). \`/\` is index.html on both."
  echo; echo "## Summary"; echo
  echo "| board | guest | image bytes as booted / gzip -9 (appliance: unpacks to) | entry → listening, kernel clock, median ms | launch → listening line, host clock, median ms | launch → first 200, median ms | floor, median ms | req/s \`/\` at 1 / 16 / 64 conns | p50 / p99 ms \`/\` at 16 | req/s \`/$largest\` at 16 | req/s \`/\` at 16, Connection: close | idle CPU % | heap high-water after load | QEMU peak RSS MiB |"
  echo "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|"
  for board in $BOARDS; do
    a=${board#qemu-virt-}
    for g in app peer; do
      k=$a/$g; [[ $g == peer ]] && { [[ -z ${NO_PEER:-} ]] && virt "$board" || continue; }
      floor=${V[$k/floor]:--}; [[ $g == app ]] && ! virt "$board" && floor=$NO_BOOTARGS
      big=/$largest; [[ $g == peer ]] && big=/app.js
      close=${V[$k/close16]:--}; [[ $g == peer ]] && close="${V[$k/rps/@16]:--} (always closes)"
      echo "| $a | $([[ $g == app ]] && echo appliance || echo peer) | ${V[$k/raw]:--} / ${V[$k/gz]:--}$([[ $g == app ]] && echo " (${V[$k/unpacked]:--})") | ${V[$k/listen]:-n/a} | ${V[$k/hostlisten]:-n/a} |" \
        "${V[$k/launch]:--} | $floor | $([[ -n ${V[$k/stalled]:-} ]] && echo '**stopped answering after boot:** ')${V[$k/rps/@1]:--} / ${V[$k/rps/@16]:--} / ${V[$k/rps/@64]:--} |" \
        "${V[$k/p50/@16]:--} / ${V[$k/p99/@16]:--} | ${V[$k/rps$big@16]:--}$([[ $g == peer ]] && echo ' (/app.js)') | $close |" \
        "${V[$k/idle]:--} | $(kib "${V[$k/heap_hw]:-n/a}") | ${V[$k/rss]:--} |"
    done
  done
  echo; echo "### Targets"; echo
  echo "| target |$(for b in $BOARDS; do echo -n " ${b#qemu-virt-} |"; done)"; echo "|---|$(for b in $BOARDS; do echo -n "---|"; done)"
  row() { echo -n "| $1 |"; }
  row "image < 512 KiB (the file that boots)"; for b in $BOARDS; do a=${b#qemu-virt-}; r=${V[$a/app/raw]:--}
    echo -n " $(kib "$r") (unpacks to $(kib "${V[$a/app/unpacked]:--}")): $(verdict "$r" 524288 '<') |"; done; echo
  row "entry → listening < 10 ms (kernel clock, median)"; for b in $BOARDS; do a=${b#qemu-virt-}; v=${V[$a/app/listen]:--}
    echo -n " $v ms: $(verdict "$v" 10 '<') |"; done; echo
  nopeer() { virt "$1" && return 1; echo -n " no peer ($2) |"; }
  row "launch → first 200 ≤ 1/20 of the peer's"; for b in $BOARDS; do a=${b#qemu-virt-}; x=$(ratio "${V[$a/peer/launch]:-}" "${V[$a/app/launch]:-}")
    nopeer "$b" "${V[$a/app/launch]:--} ms" || echo -n " ${V[$a/app/launch]:--} vs ${V[$a/peer/launch]:--} ms = 1/$x: $(verdict "$x" 20 '>=') |"; done; echo
  row "req/s at 16 conns on \`/\` ≥ 10× the peer's"; for b in $BOARDS; do a=${b#qemu-virt-}; x=$(ratio "${V[$a/app/rps/@16]:-}" "${V[$a/peer/rps/@16]:-}")
    nopeer "$b" "${V[$a/app/rps/@16]:--}" || echo -n " ${V[$a/app/rps/@16]:--} vs ${V[$a/peer/rps/@16]:--} = ${x}×: $(verdict "$x" 10 '>=') |"; done; echo
  row "(same, both closing every connection)"; for b in $BOARDS; do a=${b#qemu-virt-}; x=$(ratio "${V[$a/app/close16]:-}" "${V[$a/peer/rps/@16]:-}")
    nopeer "$b" "${V[$a/app/close16]:--}" || echo -n " ${V[$a/app/close16]:--} vs ${V[$a/peer/rps/@16]:--} = ${x}× |"; done; echo
  cat <<EOF

Notes
- Entry → listening is the kernel's own figure, printed on the serial console as \`listening on … (+X ms)\`: from
  its entry point to the HTTP socket listening. The host-clock column is QEMU launch → that line arriving on
  QEMU's stdout; launch → first 200 adds the first request through QEMU user networking.
- Launch → first 200: \`first200.py\` (shared harness) starts a GET / every 10 ms without waiting for the earlier ones.
- Floor: the peer's is Linux booting to /init and powering off (\`bench=floor\`); the appliance's is **boot to
  NIC up, then exit**: \`--append crash=panic\` makes the kernel panic right after the NIC is up and QEMU
  (\`-no-reboot\`) exits. They are different cut points; the appliance's includes its whole bring-up.
- Keep-alive: the appliance answers HTTP/1.1 keep-alive, so wrk reuses its connections; busybox httpd closes
  every connection. The "Connection: close" column makes the appliance take a new TCP connection per request
  too, as the peer does.
- p99 at 16 and 64 connections is QEMU user networking's: its host-side listening socket has a backlog of 1
  (libslirp \`tcp_listen\`), so new connections wait for SYN retransmits (1 s and up). This hits every new
  connection (all of the peer's; the appliance's at connect time and in the Connection: close run). A TAP
  device would avoid it; not measured here.
- wrk "read" errors: wrk found a connection closed before its reply and reconnected. In the appliance rows they
  come with more connections than HTTP slots (16 by default: a new client then makes the appliance evict the
  connection that has waited longest, \`evicted\` in /stats.json) and with connections of the previous row still
  closing; compare the \`http_slots=64\` row (virt boards). busybox httpd has no such limit (it forks per connection).
- Idle CPU: utime + stime of the QEMU process from /proc/PID/stat over ${IDLE} s, starting 2 s after the first 200
  on a fresh boot (no probes, no load).
- Heap high-water: \`heap.high_water\` of \`/stats.json\` after the load rows of that boot (the appliance's own
  allocator; the peer has no equivalent figure).
- Image: the appliance is one self-extracting file, as booted by \`-kernel\`, \`bootz\` and \`booti\`: the unpacker
  (\`unpack/\`) followed by the kernel (site embedded, gzip copies included), zlib-compressed; at boot it inflates
  the kernel to the size in parentheses, which under TCG takes the "entry at" time in each board's section (the
  A10 has no generic timer, so its line cannot show it). The peer's is the uncompressed kernel Image plus
  initrd.cpio.
- QEMU peak RSS counts guest RAM touched (-m 128M on the virt boards, 1G on the Allwinner ones), QEMU's TCG
  code cache and its copy of the image.
- Allwinner boards (orangepi-pc, cubieboard): QEMU's models of the SoCs, with their own EMAC (sun8i on the H3,
  sun4i on the A10) instead of virtio-net, on the same user networking and port forward. They boot with
  -kernel, which gives them no device tree, so \`--append\` bootargs don't reach the kernel: no crash=panic floor
  and no http_slots=64 boot there ("$NO_BOOTARGS"). No peer either: the shared harness boots Debian on the
  virt machines only, so the two peer targets don't apply to them ("no peer").
EOF
  for board in $BOARDS; do
    a=${board#qemu-virt-}
    echo; echo "## $a"; echo
    [[ -z ${V[$a/app/stalled]:-} ]] || { echo "**The appliance stopped answering in measure.sh's load boot: its GETs after the settle got no reply (000) and its wrk rows are zeros.**"; echo; }
    echo "### appliance ($board)"; echo
    sed -e '1,2{/^## \|^$/d}' -e 's/^Command: /measure.sh command: /' "$WORK/$a-app.md"; echo
    cat "$WORK/$a-app.extra" 2>/dev/null || echo "(not measured)"
    if ! virt "$board"; then
      echo; echo "### peer: none"; echo
      echo "There is no peer harness for this machine (\`peer-linux.sh\` boots Debian on the QEMU virt boards only)."
    elif [[ -z ${NO_PEER:-} ]]; then
      echo; echo "### peer (Debian Linux + busybox httpd, $a)"; echo
      sed -e '1,2{/^## \|^$/d}' -e 's/^Command: /measure.sh command: /' "$WORK/$a-peer.md"; echo
      cat "$WORK/$a-peer.extra" 2>/dev/null || true
    fi
  done
  [[ -z $prev_fuzz ]] || { echo; echo "$prev_fuzz"; }
} >"$OUT"
log "done; wrote $OUT"
cat "$OUT"
