#!/usr/bin/env bash
# The rig's "phone": boots a Linux VM whose mac80211_hwsim station reaches the access point on the
# Wi-Fi frame link at PORT (the access point listens on 127.0.0.1:PORT, the phone on PORT+1; see
# tests/e2e/phone_vm.py), then joins, takes a lease and fetches the page, printing each step with
# its time since launch and since wpa_supplicant started. Exits non-zero, saying why, on failure.
#
#   tools/phone.sh --wifi PORT [--ssid 2048] [--passphrase P] [--power-save] [--radios N]
#                  [--drop PCT] [--url http://2048.home.arpa/] [--timeout S] [--log FILE] [--verbose]
#
# The access point is the appliance (`./qemu.sh BOARD --wifi PORT`) or the Linux peer
# (`bench/wifi-peer.sh --wifi PORT`). The first run downloads and builds the VM (build/phone/).
set -euo pipefail
cd "$(dirname "$0")/.."
exec python3 tests/e2e/phone_vm.py phone "$@"
