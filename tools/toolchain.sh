# Sourced by the build, run and test scripts: makes a cross toolchain for
# armv7a-none-eabihf and aarch64-unknown-none available, installing it if
# needed, and defines `cross_cargo` to build with it. Idempotent.
#
# - With rustup and both targets installable (a normal laptop): rustup's
#   cargo with prebuilt core/alloc.
# - Otherwise (rustup cannot download targets here): Debian's rustc-web,
#   rust-web-src and lld-22, building core/alloc from source (-Zbuild-std).

CROSS_TARGETS="armv7a-none-eabihf aarch64-unknown-none"

. "$(dirname "${BASH_SOURCE[0]}")/apt.sh"

rustup_has_targets() {
    command -v rustup >/dev/null 2>&1 || return 1
    local installed; installed=$(rustup target list --installed 2>/dev/null)
    for t in $CROSS_TARGETS; do
        grep -qx "$t" <<<"$installed" || rustup target add "$t" >/dev/null 2>&1 || return 1
    done
}

if [ -z "${CROSS_CARGO_MODE:-}" ]; then
    if rustup_has_targets; then
        CROSS_CARGO_MODE=rustup
    else
        apt_install rustc-web cargo-web rust-web-src lld-22
        CROSS_CARGO_MODE=build-std
    fi
    export CROSS_CARGO_MODE
fi

# cross_cargo TARGET ARGS...: cargo for a bare-metal target.
cross_cargo() {
    local target=$1; shift
    if [ "$CROSS_CARGO_MODE" = rustup ]; then
        cargo "$@" --target "$target"
    else
        RUSTC=/usr/bin/rustc RUSTC_BOOTSTRAP=1 /usr/bin/cargo "$@" --target "$target" \
            -Zbuild-std=core,alloc,compiler_builtins -Zbuild-std-features=compiler-builtins-mem
    fi
}
