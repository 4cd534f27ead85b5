# Sourced by the build, run and test scripts: makes a cross toolchain for
# armv7a-none-eabihf and aarch64-unknown-none available, installing it if
# needed, and defines `cross_cargo` to build with it. Idempotent.
#
# - With rustup and both targets installable (a normal laptop): rustup's
#   cargo with prebuilt core/alloc.
# - Otherwise (rustup cannot download targets here): Debian's rustc-web,
#   rust-web-src and lld-22, building core/alloc from source (-Zbuild-std).

CROSS_TARGETS="armv7a-none-eabihf aarch64-unknown-none"

apt_install() {
    local missing=()
    for pkg in "$@"; do dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg"); done
    [ ${#missing[@]} -eq 0 ] && return 0
    echo "installing: ${missing[*]}" >&2
    local sudo=; [ "$(id -u)" -eq 0 ] || sudo=sudo
    if [ ! -f /tmp/.appliance-apt-updated ]; then
        $sudo apt-get update -q >&2 && touch /tmp/.appliance-apt-updated
    fi
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q "${missing[@]}" >&2
}

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
