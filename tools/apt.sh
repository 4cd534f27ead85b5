# Sourced by the scripts that need Debian packages on the host: `apt_install PKG...` installs
# those not installed yet (apt-get update once per boot of the machine). Idempotent.

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
