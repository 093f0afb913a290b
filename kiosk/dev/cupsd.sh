#!/usr/bin/env bash
# A private cupsd for tests and development: its own configuration, socket, port, spool, state and logs,
# all under DIR. Nothing under /etc/cups or /run/cups is read or written; it listens on 127.0.0.1 and on
# DIR/cups.sock only. Needs the Debian packages cups-daemon and cups-client.
#
# Usage:
#   cupsd.sh start DIR [PORT]      start the private cupsd (restarting it, with an empty spool, if it runs);
#                                  PORT defaults to the first free one from 8631
#   cupsd.sh stop DIR              stop it and wait until it has exited (no error if it is not running)
#   cupsd.sh status DIR            print the server and exit 0 when it answers, exit 1 otherwise
#   cupsd.sh add-queue DIR NAME    add another capture queue NAME, capturing to DIR/queues/NAME/captured
#                                  and controlled by DIR/queues/NAME/control/fail (for tests that make a
#                                  printer fail without disturbing other tests that use `capture`)
#
# `start` prints three lines for eval and writes them as `export` lines to DIR/env:
#   JIAYUAN_TEST_CUPS_DIR=DIR
#   JIAYUAN_TEST_CUPS_SERVER=127.0.0.1:PORT
#   JIAYUAN_TEST_CUPS_SOCKET=DIR/cups.sock
#
# The queue `capture` is a raw queue (no PPD, no filters) whose backend, DIR/lib/backend/capture, writes
# each job's bytes to DIR/captured/job-<id>.bin (to a hidden temporary name first, then renamed, so a file
# with that name is always complete). A raw queue with a file: URI would silently write nothing, which is
# why the backend exists. It fails on demand: at each attempt it reads the first word of
# DIR/control/fail (for an added queue: DIR/queues/NAME/control/fail):
#
#   offline | media-empty | media-jam | cover-open
#       Reports STATE: +offline-report (resp. media-empty-error, media-jam-error, cover-open-error) and an
#       ERROR: line, then exits 1 (CUPS_BACKEND_FAILED). The queue's printer-error-policy is retry-job, so
#       cupsd holds the job (job-state held, job-state-reasons resources-are-not-ready) for
#       JobRetryInterval (1 s); the job is started again at cupsd's next job check, which cupsd runs only
#       every 10 s when nothing else happens (a new job or any job finishing triggers one sooner). There is
#       no retry limit (JobRetryLimit 0), so the job waits until the fail file is gone and then prints once.
#       The printer stays idle and accepting; its printer-state-message keeps the backend's ERROR: text;
#       cupsd itself removes offline-report from printer-state-reasons when the backend exits (it does so
#       for every device URI that is not usb:), while media-empty-error etc. stay until the next job
#       succeeds (the backend then clears them).
#   offline-wait | media-empty-wait | media-jam-wait | cover-open-wait
#       What the usb backend does when the printer is unplugged or stalls: reports the same STATE reason
#       and an INFO: waiting message, then keeps running, checking the fail file every 0.1 s. The job stays
#       processing, the printer is processing with the reason in printer-state-reasons; once the file is
#       gone the backend clears the reason and captures the job.
#   stop      exit 4 (CUPS_BACKEND_STOP): the printer is stopped (paused), the job goes back to pending;
#             it prints after `cupsenable -h SERVER QUEUE`.
#   hold      exit 3 (CUPS_BACKEND_HOLD): the job is held indefinitely (release it with `lp -i ID -H resume`).
#   cancel    exit 5 (CUPS_BACKEND_CANCEL): the job is canceled.
#
# Run as root: the backend is root-owned with mode 0700, so cupsd runs it as root. Run as another user,
# cupsd's User/Group are that user and everything runs as that user.
set -euo pipefail
export LC_ALL=C LANG=C

die() { echo "cupsd.sh: $*" >&2; exit 1; }
usage() { die "usage: cupsd.sh start DIR [PORT] | stop DIR | status DIR | add-queue DIR NAME"; }

[ $# -ge 2 ] || usage
cmd=$1
[ -n "$2" ] || usage
case "$cmd" in
  start) mkdir -p -- "$2" ;;
  *) [ -d "$2" ] || { [ "$cmd" = stop ] && exit 0; die "no such directory: $2"; } ;;
esac
DIR=$(cd -- "$2" && pwd -P)
PIDFILE=$DIR/cupsd.pid
SOCK=$DIR/cups.sock

find_tool() {
  local t
  for t in "$(command -v "$1" 2>/dev/null || true)" "/usr/sbin/$1" "/usr/bin/$1" "/sbin/$1"; do
    [ -n "$t" ] && [ -x "$t" ] && { echo "$t"; return 0; }
  done
  die "$1 not found — install CUPS: apt-get install -y cups-daemon cups-client"
}

running_pid() {
  # The pid of our cupsd when it is alive (and really a cupsd, not a recycled pid).
  [ -f "$PIDFILE" ] || return 1
  local pid; pid=$(cat "$PIDFILE" 2>/dev/null || true)
  [[ "$pid" =~ ^[0-9]+$ ]] || return 1
  kill -0 "$pid" 2>/dev/null || return 1
  [ "$(cat "/proc/$pid/comm" 2>/dev/null || echo cupsd)" = cupsd ] || return 1
  echo "$pid"
}

answers() {
  # `lpstat -r` exits 0 even when the scheduler is down, so read what it says.
  local out
  out=$("$LPSTAT" -h "$1" -r 2>&1 || true)
  [ "$out" = "scheduler is running" ]
}

port_in_use() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

do_stop() {
  local pid i
  if pid=$(running_pid); then
    kill -TERM "$pid" 2>/dev/null || true
    for i in $(seq 1 100); do
      kill -0 "$pid" 2>/dev/null || break
      sleep 0.1
    done
    if kill -0 "$pid" 2>/dev/null; then
      echo "cupsd.sh: cupsd $pid did not stop within 10 s; killing it" >&2
      kill -KILL "$pid" 2>/dev/null || true
      for i in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    fi
    echo "cupsd.sh: stopped cupsd $pid ($DIR)" >&2
  fi
  rm -f -- "$PIDFILE" "$SOCK"
}

add_queue() {
  # add_queue NAME CAPTURE-DIR: a raw queue whose capture backend writes to CAPTURE-DIR and reads
  # CAPTURE-DIR/../control/fail. No -m: a queue without a PPD is raw (`-m raw` only adds a deprecation
  # warning on CUPS 2.4).
  local name=$1 captured=$2 out
  [[ "$name" =~ ^[A-Za-z0-9_.-]{1,127}$ ]] || die "queue names are letters, digits, '.', '_' and '-': $name"
  mkdir -p -- "$captured" "$(dirname "$captured")/control"
  if ! out=$("$LPADMIN" -h "$SOCK" -p "$name" -E -v "capture:$captured" \
             -o printer-error-policy=retry-job -o printer-is-shared=false 2>&1); then
    echo "cupsd.sh: lpadmin could not create the queue $name: $out" >&2
    tail -n 20 "$DIR/log/error_log" >&2 2>/dev/null || true
    return 1
  fi
  [ -z "$out" ] || echo "cupsd.sh: lpadmin: $out" >&2
}

LPSTAT=$(find_tool lpstat)
LPADMIN=$(find_tool lpadmin)

case "$cmd" in
stop)
  do_stop
  exit 0
  ;;
status)
  if running_pid >/dev/null && [ -f "$DIR/port" ] && answers "127.0.0.1:$(cat "$DIR/port")"; then
    echo "127.0.0.1:$(cat "$DIR/port")"
    exit 0
  fi
  echo "cupsd.sh: no private cupsd answers for $DIR" >&2
  exit 1
  ;;
add-queue)
  [ $# -eq 3 ] || usage
  running_pid >/dev/null || die "no private cupsd runs for $DIR (cupsd.sh start $DIR)"
  add_queue "$3" "$DIR/queues/$3/captured"
  echo "cupsd.sh: queue $3 captures to $DIR/queues/$3/captured (control: $DIR/queues/$3/control/fail)" >&2
  exit 0
  ;;
start) ;;
*) usage ;;
esac

CUPSD=$(find_tool cupsd)
[ -d /usr/lib/cups ] || die "/usr/lib/cups is missing — install CUPS: apt-get install -y cups-daemon"
[ -d /usr/share/cups/mime ] || die "/usr/share/cups/mime is missing — install CUPS: apt-get install -y cups-daemon"

# Start from a clean slate: a second start restarts with an empty spool.
do_stop
[ ${#SOCK} -lt 100 ] || die "the socket path $SOCK is too long for a Unix socket (use a shorter DIR)"

PORT=${3:-}
if [ -z "$PORT" ]; then
  PORT=8631
  while port_in_use "$PORT"; do
    PORT=$((PORT + 1))
    [ "$PORT" -le 8730 ] || die "no free port between 8631 and 8730"
  done
else
  [[ "$PORT" =~ ^[0-9]+$ ]] && [ "$PORT" -ge 1 ] && [ "$PORT" -le 65535 ] || die "PORT must be a number from 1 to 65535"
  ! port_in_use "$PORT" || die "port $PORT on 127.0.0.1 is already in use"
fi

rm -rf -- "$DIR/sbin" "$DIR/etc" "$DIR/lib" "$DIR/spool" "$DIR/cache" "$DIR/run" "$DIR/log" "$DIR/captured" \
          "$DIR/control" "$DIR/queues" "$DIR/env" "$DIR/port"
mkdir -p -- "$DIR/sbin" "$DIR/etc" "$DIR/lib/backend" "$DIR/spool/tmp" "$DIR/cache" "$DIR/run" "$DIR/log" \
            "$DIR/captured" "$DIR/control" "$DIR/queues"
# cupsd runs filters as User, which must be able to reach the spool through DIR.
chmod 0755 "$DIR"

if [ "$(id -u)" -eq 0 ]; then
  RUN_USER=lp; RUN_GROUP=lp
  getent passwd lp >/dev/null || RUN_USER=daemon
  getent group lp >/dev/null || RUN_GROUP=daemon
  SYSTEM_GROUP=root
else
  RUN_USER=$(id -un); RUN_GROUP=$(id -gn); SYSTEM_GROUP=$RUN_GROUP
fi

# Run a copy of cupsd: AppArmor confines /usr/sbin/cupsd by its path (Debian ships an enforcing profile
# that allows only /etc/cups, /var/spool/cups, /run/cups, ...), which would deny every file under DIR.
install -m 0755 "$CUPSD" "$DIR/sbin/cupsd"

# Private ServerBin: the system's filters, daemons etc. by symlink, and a backend directory holding only
# the capture backend.
for d in /usr/lib/cups/*; do
  [ "$(basename "$d")" = backend ] && continue
  ln -s "$d" "$DIR/lib/$(basename "$d")"
done

cat > "$DIR/lib/backend/capture" <<'BACKEND'
#!/bin/sh
# Jiayuan test backend: captures each job's bytes to a file and fails on demand (see kiosk/dev/cupsd.sh).
# cupsd runs it as: capture JOB-ID USER TITLE COPIES OPTIONS [FILE], with DEVICE_URI=capture:/DIR/captured
if [ $# -eq 0 ]; then
  echo 'direct capture "Jiayuan capture" "Jiayuan test capture backend"'
  exit 0
fi
if [ $# -lt 5 ]; then
  echo "Usage: capture job-id user title copies options [file]" >&2
  exit 1
fi
out=${DEVICE_URI#capture:}
case "$out" in //*) out=${out#//} ;; esac
if [ -z "$out" ] || [ ! -d "$out" ]; then
  echo "ERROR: capture directory \"$out\" does not exist" >&2
  exit 1
fi
control=$(dirname "$out")/control

fail_mode() {
  if [ -f "$control/fail" ]; then head -n 1 "$control/fail" 2>/dev/null | tr -d ' \t\r'; fi
}
reason_for() {
  case "$1" in
    offline*)     echo offline-report ;;
    media-empty*) echo media-empty-error ;;
    media-jam*)   echo media-jam-error ;;
    cover-open*)  echo cover-open-error ;;
  esac
}
message_for() {
  case "$1" in
    offline*)     echo "The printer is not responding (test: offline)." ;;
    media-empty*) echo "The printer is out of paper (test: media-empty)." ;;
    media-jam*)   echo "The paper is jammed (test: media-jam)." ;;
    cover-open*)  echo "The printer cover is open (test: cover-open)." ;;
  esac
}

while :; do
  mode=$(fail_mode)
  case "$mode" in
    "") break ;;
    offline|media-empty|media-jam|cover-open)
      echo "STATE: +$(reason_for "$mode")" >&2
      echo "ERROR: $(message_for "$mode")" >&2
      exit 1 ;;
    offline-wait|media-empty-wait|media-jam-wait|cover-open-wait)
      reason=$(reason_for "$mode")
      echo "STATE: +$reason" >&2
      echo "INFO: $(message_for "$mode") Waiting..." >&2
      while [ "$(fail_mode)" = "$mode" ]; do sleep 0.1; done
      echo "STATE: -$reason" >&2
      echo "INFO: Printer is back." >&2 ;;
    stop)   echo "ERROR: Stopping the queue (test: stop)." >&2; exit 4 ;;
    hold)   echo "ERROR: Holding the job (test: hold)." >&2; exit 3 ;;
    cancel) echo "ERROR: Canceling the job (test: cancel)." >&2; exit 5 ;;
    *)      echo "ERROR: unknown fail mode \"$mode\" in $control/fail" >&2; exit 1 ;;
  esac
done

echo "STATE: -offline-report,media-empty-error,media-jam-error,cover-open-error" >&2
tmp="$out/.job-$1.$$.tmp"
if [ $# -ge 6 ]; then
  cat -- "$6" > "$tmp" || { rm -f "$tmp"; echo "ERROR: cannot write $tmp" >&2; exit 1; }
else
  cat > "$tmp" || { rm -f "$tmp"; echo "ERROR: cannot write $tmp" >&2; exit 1; }
fi
chmod 0644 "$tmp"
mv -f -- "$tmp" "$out/job-$1.bin" || { rm -f "$tmp"; echo "ERROR: cannot rename $tmp" >&2; exit 1; }
echo "INFO: Captured job $1." >&2
exit 0
BACKEND
chmod 0700 "$DIR/lib/backend/capture"

cat > "$DIR/etc/cups-files.conf" <<CONF
# Private cupsd for Jiayuan tests (written by kiosk/dev/cupsd.sh).
ServerRoot $DIR/etc
ServerBin $DIR/lib
DataDir /usr/share/cups
DocumentRoot /usr/share/cups/doc-root
RequestRoot $DIR/spool
TempDir $DIR/spool/tmp
CacheDir $DIR/cache
StateDir $DIR/run
Printcap $DIR/run/printcap
AccessLog $DIR/log/access_log
ErrorLog $DIR/log/error_log
PageLog $DIR/log/page_log
LogFilePerm 0644
FileDevice No
User $RUN_USER
Group $RUN_GROUP
SystemGroup $SYSTEM_GROUP
CONF

cat > "$DIR/etc/cupsd.conf" <<CONF
# Private cupsd for Jiayuan tests (written by kiosk/dev/cupsd.sh): loopback and a private socket only,
# no authentication, no sharing or browsing, failed jobs retried without limit.
LogLevel info
AccessLogLevel all
MaxLogSize 0
Listen 127.0.0.1:$PORT
Listen $SOCK
Browsing No
BrowseLocalProtocols none
DefaultShared No
WebInterface No
DefaultAuthType None
ErrorPolicy retry-job
JobRetryInterval 1
JobRetryLimit 0
PreserveJobHistory Yes
PreserveJobFiles No
MaxJobs 0
<Location />
  Order allow,deny
  Allow all
</Location>
<Policy default>
  JobPrivateAccess all
  JobPrivateValues none
  SubscriptionPrivateAccess all
  SubscriptionPrivateValues none
  <Limit All>
    Order deny,allow
  </Limit>
</Policy>
CONF

# Detached from the caller's session, with a minimal environment so no CUPS_* variable leaks in.
env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin LANG=C LC_ALL=C \
  setsid "$DIR/sbin/cupsd" -f -c "$DIR/etc/cupsd.conf" -s "$DIR/etc/cups-files.conf" \
  </dev/null >>"$DIR/log/cupsd.out" 2>&1 &
pid=$!
echo "$pid" > "$PIDFILE"

ok=
for _ in $(seq 1 200); do
  if ! kill -0 "$pid" 2>/dev/null; then
    echo "cupsd.sh: cupsd exited during start-up; its output and error log:" >&2
    cat "$DIR/log/cupsd.out" >&2 2>/dev/null || true
    tail -n 30 "$DIR/log/error_log" >&2 2>/dev/null || true
    rm -f -- "$PIDFILE"
    exit 1
  fi
  if answers "127.0.0.1:$PORT" && answers "$SOCK"; then ok=1; break; fi
  sleep 0.05
done
if [ -z "$ok" ]; then
  echo "cupsd.sh: cupsd $pid does not answer on 127.0.0.1:$PORT after 10 s; error log:" >&2
  tail -n 30 "$DIR/log/error_log" >&2 2>/dev/null || true
  do_stop
  exit 1
fi

add_queue capture "$DIR/captured" || { do_stop; exit 1; }

echo "$PORT" > "$DIR/port"
cat > "$DIR/env" <<ENV
export JIAYUAN_TEST_CUPS_DIR=$(printf %q "$DIR")
export JIAYUAN_TEST_CUPS_SERVER=127.0.0.1:$PORT
export JIAYUAN_TEST_CUPS_SOCKET=$(printf %q "$SOCK")
ENV
echo "cupsd.sh: private cupsd $pid on 127.0.0.1:$PORT and $SOCK, queue capture -> $DIR/captured" >&2
echo "JIAYUAN_TEST_CUPS_DIR=$(printf %q "$DIR")"
echo "JIAYUAN_TEST_CUPS_SERVER=127.0.0.1:$PORT"
echo "JIAYUAN_TEST_CUPS_SOCKET=$(printf %q "$SOCK")"
