#!/usr/bin/env bash
# Runs every test: host unit tests, the game's rules and browser tests, and
# the end-to-end tests that boot both QEMU virt boards and use real clients.
# Installs what it needs (apt packages, Python and npm packages, crates).
set -euo pipefail
cd "$(dirname "$0")/.."
. tools/toolchain.sh
. tools/boards.sh
apt_install qemu-system-arm curl wrk chromium python3-venv busybox bind9-dnsutils iproute2 openssl
command -v npm >/dev/null 2>&1 || apt_install nodejs npm

if [ ! -x build/venv/bin/pytest ]; then
    mkdir -p build
    python3 -m venv build/venv
    build/venv/bin/pip install -q pytest
fi

echo "== host unit tests (cargo test)"
cargo test --quiet

echo "== board images"
tools/build.sh all
tools/sdcard.sh orangepi-pc

echo "== game: rules and browser (node --test)"
(cd tests/web && npm ci --silent --no-audit --no-fund && node --test)

echo "== end to end in QEMU (pytest)"
build/venv/bin/pytest -q tests/e2e

echo "== game served by the appliance, in Chromium"
log=$(mktemp); disk=$(mktemp -u --suffix=.img)
free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
port=$(free_port); tls_port=$(free_port)
setsid ./qemu.sh qemu-virt-armv7 --no-build --port "$port" --tls-port "$tls_port" --disk "$disk" </dev/null >"$log" 2>&1 &
guest=$!
trap 'kill -- -$guest 2>/dev/null || true; rm -f "$log" "$disk"' EXIT
for _ in $(seq 300); do grep -q "listening on" "$log" && break; sleep 0.1; done
grep -q "listening on" "$log" || { cat "$log"; exit 1; }
(cd tests/web && GAME_URL="http://127.0.0.1:$port/" node --test browser.test.mjs)
(cd tests/web && APPLIANCE_URL="http://127.0.0.1:$port/" node --test booth.test.mjs)
