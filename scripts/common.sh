# scripts/common.sh — shared helpers, sourced by the other scripts (not run on its own).
#
# Sets ROOT (the repository root) and cds there, so every script works from any directory;
# sets the paths of the local Redis (var/redis/...), its port (DUPWATCH_REDIS_PORT, default
# 6379), and provides die/note plus redis-cli wrappers that authenticate as one of the ACL
# users without putting the password on the command line (REDISCLI_AUTH + --user).

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

REDIS_PORT="${DUPWATCH_REDIS_PORT:-6379}"
VAR_DIR="$ROOT/var"
REDIS_DIR="$VAR_DIR/redis"
REDIS_PIDFILE="$REDIS_DIR/redis.pid"
REDIS_LOG="$REDIS_DIR/redis.log"
REDIS_ACL="$REDIS_DIR/users.acl"
CREDENTIALS="$VAR_DIR/credentials.env"

die() {
    printf '%s: error: %s\n' "$(basename "$0")" "$*" >&2
    exit 1
}

note() {
    printf '%s: %s\n' "$(basename "$0")" "$*" >&2
}

case "$REDIS_PORT" in
    '' | *[!0-9]*) die "DUPWATCH_REDIS_PORT='$REDIS_PORT' is not a port number; unset it or set e.g. DUPWATCH_REDIS_PORT=6380" ;;
esac

# Loads var/credentials.env (written by scripts/start-redis.sh). Returns 1 when it is missing.
load_credentials() {
    [[ -r "$CREDENTIALS" ]] || return 1
    # shellcheck disable=SC1090
    source "$CREDENTIALS"
    [[ -n "${DUPWATCH_WORKER_PASSWORD:-}" && -n "${DUPWATCH_PRODUCER_PASSWORD:-}" && -n "${DUPWATCH_ADMIN_PASSWORD:-}" ]]
}

# Installs what is missing (scripts/install-deps.sh) and builds `dupwatch` in release.
build_release() {
    "$ROOT/scripts/install-deps.sh"
    note "building (swift build -c release --product dupwatch)"
    swift build -c release --product dupwatch ||
        die "swift build -c release --product dupwatch failed (see the compiler output above); fix the build, then rerun"
}

require_credentials() {
    load_credentials || die "no credentials in $CREDENTIALS: start Redis first with scripts/start-redis.sh (or scripts/run.sh)"
}

# Prints the pid in var/redis/redis.pid if that process is a live redis-server (not a zombie,
# not a recycled pid); returns 1 otherwise.
redis_pid() {
    local pid
    [[ -s "$REDIS_PIDFILE" ]] || return 1
    pid="$(cat "$REDIS_PIDFILE")"
    [[ "$pid" =~ ^[0-9]+$ ]] && kill -0 "$pid" 2>/dev/null || return 1
    if [[ -r "/proc/$pid/status" ]]; then
        grep -q '^State:[[:space:]]*Z' "/proc/$pid/status" && return 1
        grep -q 'redis' "/proc/$pid/comm" 2>/dev/null || return 1
    fi
    echo "$pid"
}

# redis-cli as one of the ACL users, on the local port. Usage: rcli admin PING
rcli() {
    local user="$1"
    shift
    local password
    case "$user" in
        dupwatch) password="${DUPWATCH_WORKER_PASSWORD:-}" ;;
        producer) password="${DUPWATCH_PRODUCER_PASSWORD:-}" ;;
        admin) password="${DUPWATCH_ADMIN_PASSWORD:-}" ;;
        *) die "rcli: unknown user '$user'" ;;
    esac
    REDISCLI_AUTH="$password" redis-cli -h 127.0.0.1 -p "$REDIS_PORT" --user "$user" "$@"
}

# A throwaway redis-server from the project's redis.conf (AOF everysec) on a free port, in its
# own temp dir, killed and removed when the calling script exits. Extra arguments override
# redis.conf (e.g. --maxmemory 16gb). Sets THROWAWAY_PORT and THROWAWAY_URL.
start_throwaway_redis() {
    local dir port
    dir=$(mktemp -d)
    port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
    redis-server "$ROOT/redis.conf" --port "$port" --dir "$dir" --daemonize yes --pidfile "$dir/redis.pid" \
        --aclfile "" --logfile "$dir/redis.log" "$@" >/dev/null ||
        die "could not start redis-server on port $port (see $dir/redis.log); is redis-server installed? scripts/install-deps.sh installs it"
    on_exit "kill \"\$(cat '$dir/redis.pid' 2>/dev/null)\" 2>/dev/null || true; rm -rf '$dir'"
    for _ in $(seq 50); do redis-cli -p "$port" ping >/dev/null 2>&1 && break; sleep 0.1; done
    THROWAWAY_PORT=$port
    THROWAWAY_URL="redis://127.0.0.1:$port"
}

# Runs COMMAND when the calling script exits, before what was registered earlier (an earlier
# call, or start_throwaway_redis's trap): the last thing started is the first stopped.
on_exit() {
    local command="$1" previous="" registered
    registered="$(trap -p EXIT)"
    if [[ -n "$registered" ]]; then
        eval "set -- $registered"
        previous="$3"
    fi
    # shellcheck disable=SC2064 # expand now: the trap runs these very commands
    trap "$command${previous:+; $previous}" EXIT
}

# A throwaway Redis Cluster of MASTERS masters with REPLICAS replicas each, from the project's
# redis.conf (AOF everysec) plus cluster mode, on free ports in its own temp dir, stopped and
# removed when the calling script exits. Waits until every node reports cluster_state:ok and
# every replica is in sync. Sets THROWAWAY_CLUSTER_SEEDS (every node's URL, comma-separated,
# for --redis-url) and THROWAWAY_CLUSTER_MASTERS (the masters' ports).
start_throwaway_cluster() {
    local masters="$1" replicas="$2" dir port bus ok synced
    local ports=()
    dir=$(mktemp -d)
    on_exit "for p in '$dir'/*/redis.pid; do kill \"\$(cat \"\$p\" 2>/dev/null)\" 2>/dev/null || true; done; rm -rf '$dir'"
    for _ in $(seq $((masters * (1 + replicas)))); do
        port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
        bus=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
        mkdir -p "$dir/$port"
        redis-server "$ROOT/redis.conf" --port "$port" --dir "$dir/$port" --daemonize yes \
            --pidfile "$dir/$port/redis.pid" --logfile "$dir/$port/redis.log" --aclfile "" \
            --cluster-enabled yes --cluster-config-file nodes.conf --cluster-node-timeout 2000 \
            --cluster-port "$bus" >/dev/null ||
            die "could not start redis-server on port $port (see $dir/$port/redis.log)"
        ports+=("$port")
    done
    for port in "${ports[@]}"; do
        for _ in $(seq 50); do redis-cli -p "$port" ping >/dev/null 2>&1 && break; sleep 0.1; done
    done
    # shellcheck disable=SC2046 # one argument per node
    redis-cli --cluster create $(printf '127.0.0.1:%s ' "${ports[@]}") --cluster-replicas "$replicas" --cluster-yes >/dev/null ||
        die "redis-cli --cluster create failed (node logs in $dir/*/redis.log)"
    for _ in $(seq 300); do
        ok=0; synced=0
        for port in "${ports[@]}"; do
            redis-cli -p "$port" cluster info 2>/dev/null | grep -q 'cluster_state:ok' && ok=$((ok + 1))
            redis-cli -p "$port" info replication 2>/dev/null | grep -q 'master_link_status:up' && synced=$((synced + 1))
        done
        ((ok == ${#ports[@]} && synced == masters * replicas)) && break
        sleep 0.1
    done
    ((ok == ${#ports[@]} && synced == masters * replicas)) ||
        die "the cluster did not come up within 30 s ($ok of ${#ports[@]} nodes ok, $synced of $((masters * replicas)) replicas in sync)"
    THROWAWAY_CLUSTER_SEEDS=$(printf 'redis://127.0.0.1:%s,' "${ports[@]}")
    THROWAWAY_CLUSTER_SEEDS=${THROWAWAY_CLUSTER_SEEDS%,}
    THROWAWAY_CLUSTER_MASTERS=()
    for port in "${ports[@]}"; do
        if redis-cli -p "$port" info replication | grep -q '^role:master'; then THROWAWAY_CLUSTER_MASTERS+=("$port"); fi
    done
}

# Prints the path of the jemalloc shared library (Debian's libjemalloc2, which redis-server
# depends on) for LD_PRELOAD; returns 1 when it is not installed.
jemalloc_library() {
    local candidate
    for candidate in /usr/lib/x86_64-linux-gnu/libjemalloc.so.2 /usr/lib/aarch64-linux-gnu/libjemalloc.so.2 \
        /usr/lib64/libjemalloc.so.2 /usr/lib/libjemalloc.so.2; do
        [[ -f "$candidate" ]] && { echo "$candidate"; return 0; }
    done
    return 1
}

random_password() {
    if command -v openssl >/dev/null 2>&1; then
        openssl rand -hex 16
    else
        od -An -tx1 -N16 /dev/urandom | tr -d ' \n'
    fi
}

sha256() {
    if command -v sha256sum >/dev/null 2>&1; then
        printf '%s' "$1" | sha256sum | cut -d' ' -f1
    else
        printf '%s' "$1" | openssl dgst -sha256 -r | cut -d' ' -f1
    fi
}

# Sets DUPWATCH_WORKER_PASSWORD, DUPWATCH_PRODUCER_PASSWORD and DUPWATCH_ADMIN_PASSWORD to new
# random passwords.
generate_passwords() {
    DUPWATCH_WORKER_PASSWORD="$(random_password)"
    DUPWATCH_PRODUCER_PASSWORD="$(random_password)"
    DUPWATCH_ADMIN_PASSWORD="$(random_password)"
    [[ ${#DUPWATCH_ADMIN_PASSWORD} -ge 32 ]] || die "could not generate a random password (need openssl or /dev/urandom)"
}

# Writes the ACL file DEST from users.acl.template with the current passwords' SHA-256: no
# comments (Redis allows none), hashes only, mode 600.
write_acl_file() {
    local dest="$1" tmp
    [[ -r "$ROOT/users.acl.template" ]] || die "users.acl.template is missing from $ROOT; restore it (git checkout users.acl.template)"
    tmp="$(mktemp "$(dirname "$dest")/.users.acl.XXXXXX")"
    grep -v -e '^[[:space:]]*#' -e '^[[:space:]]*$' "$ROOT/users.acl.template" |
        sed -e "s/@DUPWATCH_PASSWORD_SHA256@/$(sha256 "$DUPWATCH_WORKER_PASSWORD")/" \
            -e "s/@PRODUCER_PASSWORD_SHA256@/$(sha256 "$DUPWATCH_PRODUCER_PASSWORD")/" \
            -e "s/@ADMIN_PASSWORD_SHA256@/$(sha256 "$DUPWATCH_ADMIN_PASSWORD")/" >"$tmp"
    if grep -q '@[A-Z_]*@' "$tmp"; then
        rm -f "$tmp"
        die "users.acl.template has a placeholder this script does not know: $(grep -o '@[A-Z_]*@' "$ROOT/users.acl.template" | sort -u | tr '\n' ' ')"
    fi
    chmod 600 "$tmp"
    mv -f "$tmp" "$dest"
}
