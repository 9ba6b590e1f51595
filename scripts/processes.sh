# Sourced by the scripts that start servers: a work folder, background processes that are stopped
# (SIGTERM) and a folder that is removed on exit (kept, and named, with KEEP_WORK=1 to read the servers'
# logs), and loopback port helpers.
WORK=$(mktemp -d)
PIDS=()
cleanup() {
    for pid in "${PIDS[@]}"; do kill -TERM "$pid" 2> /dev/null || true; done
    wait 2> /dev/null || true
    if [ -n "${KEEP_WORK:-}" ]; then echo "kept $WORK" >&2; else rm -rf "$WORK"; fi
}
trap cleanup EXIT
# A free port on 127.0.0.1 (free when asked; the caller binds it soon after).
free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
# Waits up to 10 s for something to listen on 127.0.0.1:$1.
wait_port() { for _ in $(seq 100); do (echo > "/dev/tcp/127.0.0.1/$1") 2> /dev/null && return 0; sleep 0.1; done; return 1; }
# Debian's package lists, fetched when there are none (a fresh machine): `apt-get install` and
# `apt-get download` find nothing without them. `apt-get update` exits 0 when a fetch fails, so the lists
# themselves are checked, and a failed fetch is tried again.
apt_lists() {
    local attempt
    for attempt in 1 2 3; do
        ls /var/lib/apt/lists/*_Packages* > /dev/null 2>&1 && return 0
        apt-get update -qq > /dev/null 2>&1 || true
        ls /var/lib/apt/lists/*_Packages* > /dev/null 2>&1 && return 0
        sleep $((attempt * 5))
    done
    echo "apt-get update fetched no package lists" >&2
    return 1
}
# The test API server's tools (etcd, kubernetes-validate), with Debian's package lists fetched first: the tools
# and the server's build unpack packages (etcd, Go) got with apt-get download. The tools step of
# ../shared/k8s/apiserver.sh pipes `etcd --version` into `head -1` under pipefail, so when etcd writes its
# second line after head has gone, SIGPIPE ends the step (exit 141) with everything in place: that exit
# alone is tried again.
k8s_tools() { # k8s_tools PATH-OF-APISERVER.SH
    local status=0
    apt_lists
    for _ in 1 2 3; do
        status=0
        bash "$1" tools > /dev/null || status=$?
        [ "$status" = 141 ] || return "$status"
    done
    return "$status"
}
