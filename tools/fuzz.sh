#!/usr/bin/env bash
# Fuzzes the kernel's parsers of network and boot input (fuzz/: cargo-fuzz, libFuzzer + ASan) for a
# bounded time per target and prints one summary line per target.
#
# Usage: tools/fuzz.sh [SECONDS_PER_TARGET] [TARGET...]   (default 60 s; every target in fuzz/)
# Env:   RUNS=N                    stop a target after N executions if that comes first (at scale:
#                                  RUNS=10000000 tools/fuzz.sh 3600, ten million runs or an hour each)
#        RESULTS=bench/RESULTS.md  also write the summary there, as its "## Fuzzing" section
#        FUZZ_TOOLCHAIN=nightly    use a nightly toolchain instead of stable + RUSTC_BOOTSTRAP=1
#
# cargo-fuzz needs nightly compiler flags (-Zsanitizer=address); on the stable toolchain they are
# unlocked with RUSTC_BOOTSTRAP=1. Installs cargo-fuzz with `cargo install` if it is missing.
# The corpus (fuzz/corpus/TARGET, seeded by fuzz/seeds.py) persists between runs; a crash leaves
# its input in fuzz/artifacts/TARGET/ and the log in fuzz/target/logs/TARGET.log. Exits 1 if any
# target crashed.
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${1:-60}; [[ $# -gt 0 ]] && shift
[[ $secs =~ ^[0-9]+$ ]] || { echo "usage: $0 [SECONDS_PER_TARGET] [TARGET...]" >&2; exit 2; }
runs_cap=${RUNS:-}; [[ -z $runs_cap || $runs_cap =~ ^[0-9]+$ ]] || { echo "RUNS must be a number" >&2; exit 2; }

command -v cargo-fuzz >/dev/null 2>&1 || cargo install --locked cargo-fuzz >&2
if [[ -n ${FUZZ_TOOLCHAIN:-} ]]; then
    fuzz() { cargo "+$FUZZ_TOOLCHAIN" fuzz "$@"; }
else
    fuzz() { RUSTC_BOOTSTRAP=1 cargo fuzz "$@"; }
fi

targets=("$@")
((${#targets[@]})) || mapfile -t targets < <(fuzz list)
((${#targets[@]})) || { echo "no fuzz targets found (cargo fuzz list)" >&2; exit 1; }
python3 fuzz/seeds.py fuzz/corpus
echo "building ${#targets[@]} targets (cargo fuzz build, ASan)" >&2
fuzz build >&2
mkdir -p fuzz/target/logs

summary=(); crashed=0; started=$(date -u '+%Y-%m-%d %H:%M UTC')
for t in "${targets[@]}"; do
    log=fuzz/target/logs/$t.log
    echo "fuzzing $t for ${secs}s" >&2
    rc=0
    fuzz run "$t" -- -max_total_time="$secs" ${runs_cap:+-runs="$runs_cap"} -print_final_stats=1 >"$log" 2>&1 || rc=$?
    rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -1)
    runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
    [[ -n $runs ]] || runs=$(grep -oE '^#[0-9]+' "$log" | tail -1 | tr -d '#')
    cov=$(grep -oE 'cov: [0-9]+' "$log" | tail -1 | cut -d' ' -f2)
    corpus=$(find "fuzz/corpus/$t" -type f | wc -l)
    if ((rc == 0)); then
        line="| $t | ${runs:-?} | ${rate:-?} | 0 | ${cov:-?} | $corpus | |"
    else
        crashed=1
        artifact=$(sed -n 's/.*Test unit written to \(\S*\).*/\1/p' "$log" | tail -1)
        artifact=${artifact#"$PWD/"}; artifact=${artifact#./}; [[ -z $artifact || $artifact == fuzz/* ]] || artifact=fuzz/$artifact
        panic=$(grep -m1 -A1 'panicked at' "$log" | tr '\n' ' ' | sed 's/|/\\|/g' || true)
        [[ -n $panic ]] || panic=$(grep -m1 -E '^==[0-9]+==ERROR|^ERROR:' "$log" | sed 's/|/\\|/g' || true)
        input=; [[ -n $artifact && -f $artifact ]] && input=$(head -c 96 "$artifact" | od -An -c | tr -s ' \n' ' ' | sed 's/|/\\|/g')
        line="| $t | ${runs:-?} | ${rate:-?} | 1 (exit $rc) | ${cov:-?} | $corpus | ${panic:-see $log}; input ${artifact:-?}: \`$input\` |"
    fi
    summary+=("$line")
    echo "$t: runs ${runs:-?}, crashes $([[ $rc == 0 ]] && echo 0 || echo 1)${cov:+, coverage $cov}" >&2
done

report() {
    echo "## Fuzzing"; echo
    echo "- Date: $started; re-run with \`${runs_cap:+RUNS=$runs_cap }tools/fuzz.sh $secs\` (${runs_cap:+$runs_cap runs or }${secs} s per target; cargo-fuzz $(cargo fuzz --version 2>/dev/null | awk '{ print $2 }')," \
        "libFuzzer + AddressSanitizer, $(if [[ -n ${FUZZ_TOOLCHAIN:-} ]]; then rustc "+$FUZZ_TOOLCHAIN" --version; else echo "$(rustc --version) with RUSTC_BOOTSTRAP=1"; fi))"
    echo "- Targets (fuzz/fuzz_targets/): http_percent_decode (\`http::percent_decode\`), http_headers (\`http::accepts_gzip\`," \
        "\`etag_matches\`, \`route\` with \`captive::classify\`), config_bootargs (\`Config::from_bootargs\`, then \`DhcpServer::new\`)," \
        "dns_respond (\`DnsServer::respond\`; every reply must parse with \`domain\`), dhcp_handle (\`DhcpServer::handle\` over a" \
        "sequence of packets; every reply must decode with \`edge-dhcp\`), tls_accept (\`TlsServer::accept\` on every byte a client sends" \
        "before the handshake completes: rustls' record parsing and our buffering; it must end once the client closes), wifi_eapol" \
        "(\`Authenticator::receive\` on a station's EAPOL frames, the harness writing valid MICs on request, and \`check_station_rsn\`)," \
        "wifi_frame (the access point's 802.11 parsers: \`Header\`, \`PsPoll\`, \`Elements\`, management bodies, LLC/SNAP, Ethernet," \
        "\`rsn::check_station_rsn\`), wifi_station (\`AccessPoint\` over a sequence of radio frames, Ethernet frames, ACK reports and" \
        "polls, open or WPA2; every frame it transmits must parse), leaderboard_journal (\`Journal::open\` on any area, then appends" \
        "that must come back), leaderboard_post (\`Booth::submit\`: serde-json-core and the replay), syn_gate (\`SynGate::admits\` on every received frame)," \
        "sd_card (\`SdCard::identify\` and \`Partition::leaderboard\` against a card whose every response is the fuzzer's), slot_decisions" \
        "(\`choose_eviction\` over a sequence of accepts, requests, responses, closes and clock ticks on a fake clock), rt2800_rx (\`rt2800::wire::parse_rx\` on an RT5370's bulk IN transfers), usb_storage (\`storage::Csw::parse\`," \
        "\`Capacity::parse\`, then \`find_leaderboard_stick\` and block reads and writes against a stick whose every bulk IN transfer is the" \
        "fuzzer's; no WRITE(10) may land outside the leaderboard partition). Each also asserts a few invariants (see the sources)."
    echo "- Corpus: seeded by fuzz/seeds.py, kept in fuzz/corpus/ between runs (ignored by git); runs and coverage are this run's."
    echo
    echo "| target | runs | runs/s | crashes | coverage (libFuzzer cov) | corpus files | crash |"
    echo "|---|---|---|---|---|---|---|"
    printf '%s\n' "${summary[@]}"
}
report
if [[ -n ${RESULTS:-} ]]; then
    tmp=$(mktemp)
    [[ -f $RESULTS ]] && awk '/^## Fuzzing/ { skip = 1; next } skip && /^## / { skip = 0 } !skip' "$RESULTS" >"$tmp"
    sed -i -e :a -e '/^\n*$/{$d;N;ba' -e '}' "$tmp"  # drop trailing blank lines
    { cat "$tmp"; echo; report; } >"$RESULTS"; rm -f "$tmp"
    echo "wrote the Fuzzing section of $RESULTS" >&2
fi
exit "$crashed"
