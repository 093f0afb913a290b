#!/usr/bin/env bash
# A private, throw-away PostgreSQL cluster for development and tests.
#
#   postgres.sh start DIR     create (first time) and start a cluster in DIR on a free 127.0.0.1 port,
#                             with database jiayuan_test, user jiayuan (trust auth); writes DIR/env
#   postgres.sh stop DIR      stop it (fast shutdown)
#   postgres.sh restart DIR   restart it on the same port
#   postgres.sh status DIR    say whether it runs
#
# Then: source DIR/env   (sets JIAYUAN_TEST_POSTGRES_URL and JIAYUAN_TEST_POSTGRES_DIR)
# initdb and pg_ctl refuse to run as root; as root this script runs them as the system user
# jiayuan-pg (created if missing) and hands DIR to that user. Set PG_BINDIR to choose the binaries.
set -euo pipefail

PG_USER_AS_ROOT=jiayuan-pg
DB_USER=jiayuan
DB_NAME=jiayuan_test

die() { echo "postgres.sh: $*" >&2; exit 1; }
usage() { echo "usage: postgres.sh start|stop|restart|status DIR" >&2; exit 64; }

[[ $# -eq 2 ]] || usage
cmd=$1
dir=$(realpath -m -- "$2")
data=$dir/data

# The newest installed server, e.g. /usr/lib/postgresql/15/bin.
find_bindir() {
    if [[ -n ${PG_BINDIR:-} ]]; then echo "$PG_BINDIR"; return; fi
    local newest
    newest=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)
    if [[ -n $newest && -x $newest/initdb ]]; then echo "$newest"; return; fi
    if command -v initdb >/dev/null 2>&1; then dirname "$(command -v initdb)"; return; fi
    die "no PostgreSQL server found (install it: apt-get install -y postgresql)"
}
bindir=$(find_bindir)
for tool in initdb pg_ctl postgres psql; do
    [[ -x $bindir/$tool ]] || die "$bindir/$tool is missing"
done

# Close every inherited descriptor above 2 in this (sub)shell, so the server daemon does not keep the
# caller's pipes or sockets open (Foundation.Process on Linux, for one, waits until they close).
close_inherited_fds() {
    local fd
    for fd in /proc/$BASHPID/fd/*; do
        fd=${fd##*/}
        [[ $fd =~ ^[0-9]+$ ]] && (( fd > 2 )) && eval "exec $fd>&-" 2>/dev/null || true
    done
}

# Run a server tool as the cluster's owner (never as root).
as_owner() {
    if [[ $(id -u) -eq 0 ]]; then
        (cd "$dir" && runuser -u "$owner" -- "$@")
    else
        "$@"
    fi
}

owner_for_new_cluster() {
    if [[ $(id -u) -ne 0 ]]; then id -un; return; fi
    if ! id -u "$PG_USER_AS_ROOT" >/dev/null 2>&1; then
        useradd --system --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin \
            --user-group "$PG_USER_AS_ROOT" >/dev/null 2>&1 \
            || die "cannot create system user $PG_USER_AS_ROOT (useradd failed)"
    fi
    echo "$PG_USER_AS_ROOT"
}

# The owner of DIR/data must be able to reach it: make every parent directory traversable (o+x).
make_parents_traversable() {
    local p=$dir
    while [[ $p != / ]]; do
        p=$(dirname "$p")
        if ! runuser -u "$owner" -- test -x "$p" 2>/dev/null; then
            chmod o+x "$p"
            echo "postgres.sh: note: made $p traversable (o+x) for $owner" >&2
        fi
    done
}

port_in_use() {
    (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

pick_port() {
    local port tries=0
    while (( tries < 200 )); do
        port=$(( 20000 + (RANDOM * 32768 + RANDOM) % 40000 ))
        if ! port_in_use "$port" && [[ ! -e $dir/.s.PGSQL.$port ]]; then echo "$port"; return; fi
        tries=$((tries + 1))
    done
    die "no free TCP port found on 127.0.0.1"
}

is_running() {
    [[ -f $data/postmaster.pid ]] && as_owner "$bindir/pg_ctl" -D "$data" status >/dev/null 2>&1
}

current_port() {
    sed -n 4p "$data/postmaster.pid" 2>/dev/null
}

write_env() {
    local port=$1
    cat >"$dir/env" <<EOF
export JIAYUAN_TEST_POSTGRES_URL=postgres://$DB_USER@127.0.0.1:$port/$DB_NAME
export JIAYUAN_TEST_POSTGRES_DIR=$dir
EOF
    echo "$port" >"$dir/port"
    chmod 0644 "$dir/env" "$dir/port"
}

ensure_database() {
    local port=$1 exists
    exists=$("$bindir/psql" -X -q -h 127.0.0.1 -p "$port" -U "$DB_USER" -d postgres -tAc \
        "SELECT 1 FROM pg_database WHERE datname = '$DB_NAME'")
    if [[ $exists != 1 ]]; then
        "$bindir/psql" -X -q -h 127.0.0.1 -p "$port" -U "$DB_USER" -d postgres \
            -c "CREATE DATABASE $DB_NAME" >/dev/null
    fi
}

start() {
    mkdir -p "$dir"
    if [[ -d $data ]]; then
        owner=$(stat -c %U "$data")
        [[ $owner != root ]] || die "$data is owned by root; remove it and start again"
    else
        owner=$(owner_for_new_cluster)
    fi
    if [[ $(id -u) -eq 0 ]]; then
        chown "$owner:" "$dir"
        chmod 0755 "$dir"
        make_parents_traversable
    fi
    (( ${#dir} + 20 < 107 )) || die "DIR is too long for a Unix socket path ($dir); choose a shorter one"

    if is_running; then
        local port
        port=$(current_port)
        write_env "$port"
        echo "postgres already running in $dir on 127.0.0.1:$port (source $dir/env)"
        return
    fi

    if [[ ! -f $data/PG_VERSION ]]; then
        rm -rf "$data"
        local locale=C
        if locale -a 2>/dev/null | grep -qiE '^c\.utf-?8$'; then locale=C.UTF-8; fi
        as_owner "$bindir/initdb" -D "$data" -U "$DB_USER" --auth=trust -E UTF8 --locale="$locale" \
            >"$dir/initdb.log" 2>&1 || { cat "$dir/initdb.log" >&2; die "initdb failed (log: $dir/initdb.log)"; }
    fi

    # Reuse the port of an earlier run in this DIR if it is still free, so DIR/env stays valid.
    local port attempt previous=
    [[ -f $dir/port ]] && previous=$(<"$dir/port")
    for attempt in 1 2 3 4 5; do
        if [[ $attempt -eq 1 && $previous =~ ^[0-9]+$ ]] && ! port_in_use "$previous"; then
            port=$previous
        else
            port=$(pick_port)
        fi
        if (close_inherited_fds; as_owner "$bindir/pg_ctl" -D "$data" -w -t 60 -l "$dir/log" start \
            -o "-k $dir -p $port -c listen_addresses=127.0.0.1 -c fsync=on -c shared_buffers=64MB" >/dev/null); then
            break
        fi
        # Most likely another process took the port in the meantime: try another.
        (( attempt < 5 )) || { tail -n 20 "$dir/log" >&2; die "the server did not start (log: $dir/log)"; }
    done
    ensure_database "$port"
    write_env "$port"
    echo "postgres $(basename "$(dirname "$bindir")") running in $dir on 127.0.0.1:$port (source $dir/env)"
}

stop() {
    if [[ ! -d $data ]]; then echo "no cluster in $dir"; return; fi
    owner=$(stat -c %U "$data")
    if ! is_running; then echo "postgres not running in $dir"; return; fi
    as_owner "$bindir/pg_ctl" -D "$data" -m fast -w -t 60 stop >/dev/null
    echo "postgres stopped in $dir"
}

restart() {
    [[ -d $data ]] || die "no cluster in $dir (run: postgres.sh start $dir)"
    owner=$(stat -c %U "$data")
    is_running || die "postgres not running in $dir"
    local port
    port=$(current_port)
    # pg_ctl restart reuses the options the server was started with (DIR/data/postmaster.opts).
    (close_inherited_fds; as_owner "$bindir/pg_ctl" -D "$data" -m fast -w -t 60 -l "$dir/log" restart >/dev/null)
    echo "postgres restarted in $dir on 127.0.0.1:$port"
}

status() {
    [[ -d $data ]] || { echo "no cluster in $dir"; exit 3; }
    owner=$(stat -c %U "$data")
    if is_running; then echo "postgres running in $dir on 127.0.0.1:$(current_port)"; else echo "postgres not running in $dir"; exit 3; fi
}

case $cmd in
    start) start ;;
    stop) stop ;;
    restart) restart ;;
    status) status ;;
    *) usage ;;
esac
