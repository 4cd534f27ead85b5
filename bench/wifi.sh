#!/usr/bin/env bash
# Wi-Fi benchmark: how fast the rig's phone (tests/e2e/phone_vm.py) gets from wpa_supplicant's
# start to the first page over the emulated air, against an access point on the frame link, and
# how fast a 1 MB file comes down. Median of RUNS joins in one phone VM: wpa_supplicant start ->
# COMPLETED, udhcpc -> lease, GET / -> 200, the whole of it, and the 1 MB download's rate.
# Prints a Markdown table.
#
# Usage: bench/wifi.sh --peer                  the Linux access point (bench/wifi-peer.sh)
#        bench/wifi.sh --appliance BOARD       the appliance (built with a 1 MB file, `./qemu.sh BOARD --wifi PORT`)
# Env: RUNS (5), SSID (2048), PASSPHRASE (WPA2 when set), DNSMASQ_PING=1 (the peer's dnsmasq probes
#      each address before offering it, as stock dnsmasq and the 2015 booth did), FILE_URL (the 1 MB file,
#      http://2048.home.arpa/bench-1mb.bin), LOGS (bench/.cache/logs).
# The access point runs in its own session and is stopped by its process-group id, also on ^C.
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS=${RUNS:-5}; SSID=${SSID:-2048}; FILE_URL=${FILE_URL:-http://2048.home.arpa/bench-1mb.bin}
LOGS=${LOGS:-bench/.cache/logs}; mkdir -p "$LOGS"
usage() { echo "usage: $0 --peer | --appliance BOARD" >&2; exit 2; }
case ${1:-} in
    --peer) target=peer ;;
    --appliance) [[ -n ${2:-} ]] || usage; target=$2 ;;
    *) usage ;;
esac
port=$(python3 -c 'import sys; sys.path.insert(0, "tests/e2e"); import phone_vm; print(phone_vm.free_udp_pair())')
ap_log=$LOGS/wifi-ap-$target.log
ap=
trap '[[ -n $ap ]] && kill -TERM -- -"$ap" 2>/dev/null; wait 2>/dev/null || true' EXIT

# wait_for PATTERN SECONDS: until the access point's log has PATTERN; fails if it exits first.
wait_for() {
    local deadline=$((SECONDS + $2))
    while ((SECONDS < deadline)); do
        grep -q "$1" "$ap_log" && return 0
        kill -0 "$ap" 2>/dev/null || break
        sleep 0.2
    done
    echo "bench/wifi.sh: no '$1' from the access point within $2 s; its log ($ap_log):" >&2
    tail -30 "$ap_log" >&2; exit 1
}

# The Linux peer: hostapd + dnsmasq + busybox httpd in a VM on the link.
start_peer() {
    setsid bench/wifi-peer.sh --wifi "$port" ${PASSPHRASE:+--passphrase "$PASSPHRASE"} ${DNSMASQ_PING:+--dnsmasq-ping} </dev/null >"$ap_log" 2>&1 &
    ap=$!
    wait_for "peer ready" 180
}

# The appliance as the access point: its Wi-Fi link on PORT. Its image is built here, apart from
# build/, with the game and a 1 MB file of random bytes (as the peer serves) in its site.
start_appliance() {
    local site=bench/.cache/wifi-site
    export BUILD_DIR=bench/.cache/wifi-build
    rm -rf "$site"; mkdir -p "$site"; cp -r static/. "$site"
    head -c 1048576 /dev/urandom > "$site/bench-1mb.bin"
    SITE_DIR=$site tools/build.sh "$1" >/dev/null
    [[ ${PASSPHRASE:-} != *" "* ]] || { echo "bench/wifi.sh: the appliance's bootargs split on spaces; use a passphrase without them" >&2; exit 2; }
    setsid ./qemu.sh "$1" --no-build --wifi "$port" ${PASSPHRASE:+--append "wifi_security=wpa2 wifi_passphrase=$PASSPHRASE"} </dev/null >"$ap_log" 2>&1 &
    ap=$!
    wait_for "listening" 60
}

if [[ $target == peer ]]; then start_peer; else start_appliance "$target"; fi
python3 tests/e2e/phone_vm.py bench --wifi "$port" --runs "$RUNS" --target "$target" --ssid "$SSID" \
    ${PASSPHRASE:+--passphrase "$PASSPHRASE"} --file-url "$FILE_URL" --log "$LOGS/wifi-phone-$target.log"
