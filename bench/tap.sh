# Sourced by the bench scripts that load a guest over TAP (load.sh, soak.sh): the wiring and the
# guest's process group.
#   tap_wire N NS:LINK:PEER...   TAP device tapN on bridge brN, and for each NS:LINK:PEER a network
#                                namespace NS holding veth LINK, whose other end PEER is on the bridge
#   tap_unwire N NS:LINK:PEER... removes what tap_wire made (and what an earlier run left)
#   start_guest CMD LOG     runs CMD in its own session (PID = its process group), console to LOG
#   stop_guest              SIGTERM to that group, SIGKILL after 5 s, reaped
tap_unwire() {
  local n=$1 pair; shift
  for pair in "$@"; do ip netns del "${pair%%:*}" 2>/dev/null || true; ip link del "${pair##*:}" 2>/dev/null || true; done
  ip link del "br$n" 2>/dev/null || true; ip link del "tap$n" 2>/dev/null || true
}
tap_wire() {
  local n=$1 pair ns link host; tap_unwire "$@"; shift
  ip tuntap add dev "tap$n" mode tap
  ip link add "br$n" type bridge
  ip link set "tap$n" master "br$n"
  for pair in "$@"; do
    IFS=: read -r ns link host <<<"$pair"
    ip netns add "$ns"
    ip link add "$link" type veth peer name "$host"
    ip link set "$host" master "br$n"; ip link set "$host" up
    ip link set "$link" netns "$ns"
    ip netns exec "$ns" ip link set lo up; ip netns exec "$ns" ip link set "$link" up
  done
  ip link set "tap$n" up; ip link set "br$n" up
}
PID=
start_guest() {
  setsid bash -c "exec $1" </dev/null >"$2" 2>&1 &
  PID=$!
}
stop_guest() {
  [[ -n $PID ]] || return 0
  kill -- -"$PID" 2>/dev/null || true
  for _ in {1..50}; do kill -0 "$PID" 2>/dev/null || break; sleep 0.1; done
  kill -KILL -- -"$PID" 2>/dev/null || true; wait "$PID" 2>/dev/null || true; PID=
}
