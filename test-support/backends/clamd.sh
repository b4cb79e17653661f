#!/usr/bin/env bash
# Starts a real ClamAV daemon (clamd, Debian's clamav-daemon) for tests and CI, with a local signature
# database holding only the EICAR test signature (the official databases come from freshclam over the internet).
# Usage: clamd.sh DIR PORT     (or: clamd.sh --install, which only installs clamav-daemon when it is missing)
#   Installs clamav-daemon with apt when clamd is missing and we are root (CI); otherwise exits 3 so that callers
#   can tell "cannot be started here" from a real failure (1).
# On success prints one line: "clamd ready on 127.0.0.1:PORT pid N" (N is clamd's pid; stop it with SIGTERM).
set -euo pipefail
INSTALL_ONLY=false
if [ "${1:-}" = --install ]; then INSTALL_ONLY=true; DIR=$(mktemp -d); PORT=0
else DIR=${1:?usage: clamd.sh DIR PORT}; PORT=${2:?usage: clamd.sh DIR PORT}; fi
export DEBIAN_FRONTEND=noninteractive
CLAMD=$(command -v clamd || true)
[ -z "$CLAMD" ] && [ -x /usr/sbin/clamd ] && CLAMD=/usr/sbin/clamd
if [ -z "$CLAMD" ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    echo "installing clamav-daemon with apt-get" >&2
    mkdir -p "$DIR"
    { apt-get update -qq && apt-get install -y -qq --no-install-recommends clamav-daemon; } >"$DIR/apt.log" 2>&1 ||
      { cat "$DIR/apt.log" >&2; exit 1; }
    CLAMD=$(command -v clamd || echo /usr/sbin/clamd)
  else
    echo "clamd is not installed and cannot be installed here (needs root and apt-get)" >&2
    exit 3
  fi
fi
if $INSTALL_ONLY; then echo "clamd installed: $CLAMD"; rm -rf "$DIR"; exit 0; fi
mkdir -p "$DIR/db" "$DIR/tmp"
# EICAR body signature (.ndb: Name:TargetType:Offset:Hex): matches EICAR anywhere, also inside zip/tgz/PDF streams.
printf 'Test.EICAR-NDB:0:*:%s\n' \
  58354f2150254041505b345c505a58353428505e2937434329377d2445494341522d5354414e444152442d414e544956495255532d544553542d46494c452124482b482a \
  > "$DIR/db/eicar.ndb"
# StreamMaxLength is small enough (STREAM_MAX_MB, default 100) for tests of the oversize fallback.
cat > "$DIR/clamd.conf" <<CONF
Foreground yes
DatabaseDirectory $DIR/db
TCPAddr 127.0.0.1
TCPSocket $PORT
LocalSocket $DIR/clamd.sock
FixStaleSocket yes
PidFile $DIR/clamd.pid
TemporaryDirectory $DIR/tmp
LogFile $DIR/clamd.log
LogTime yes
StreamMaxLength ${STREAM_MAX_MB:-100}M
MaxFileSize ${STREAM_MAX_MB:-100}M
AlertExceedsMax yes
AlertEncrypted yes
CONF
"$CLAMD" --config-file="$DIR/clamd.conf" >"$DIR/clamd.out" 2>&1 &
PID=$!
echo "$PID" > "$DIR/clamd.bgpid"
# Readiness: PING over TCP until PONG (bash /dev/tcp, no extra tools), at most ~30 s.
for _ in $(seq 1 300); do
  if { exec 3<>"/dev/tcp/127.0.0.1/$PORT"; } 2>/dev/null; then
    printf 'zPING\0' >&3; r=$(timeout 2 head -c 4 <&3 || true); exec 3<&- 3>&-
    [ "$r" = PONG ] && { echo "clamd ready on 127.0.0.1:$PORT pid $PID"; exit 0; }
  fi
  kill -0 "$PID" 2>/dev/null || { echo "clamd died:" >&2; cat "$DIR/clamd.out" >&2; exit 1; }
  sleep 0.1
done
kill -TERM "$PID" 2>/dev/null || true
echo "clamd not ready within 30 s" >&2; exit 1
