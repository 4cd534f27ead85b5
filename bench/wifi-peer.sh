#!/usr/bin/env bash
# The Linux access point of the Wi-Fi rig, the 2015 booth's stack: a VM with hostapd on its
# mac80211_hwsim radio (SSID 2048, channel 6; WPA2-PSK with --passphrase), dnsmasq (DHCP, and
# every name answered with 10.42.0.1), busybox httpd serving a copy of static/ (SITE_DIR) and a
# 1 MB /bench-1mb.bin. It takes the access point's side of the frame link: listens on
# 127.0.0.1:PORT, sends to PORT+1, where tools/phone.sh is. Runs until Ctrl-C or SIGTERM.
#
#   bench/wifi-peer.sh --wifi PORT [--ssid 2048] [--passphrase P] [--log FILE] [--verbose]
set -euo pipefail
cd "$(dirname "$0")/.."
exec python3 tests/e2e/phone_vm.py peer "$@"
