#!/usr/bin/env bash
# The `sioclient` command in a shell script: an ack that feeds the next step, events as JSON
# lines, a refusal told apart from a timeout by the exit status, and a short benchmark.
#
#   bash examples/cli.sh        starts examples/echo_server.py for the run
#   bash examples/cli.sh URL    against your own server (it must ack `echo` with its arguments)
#
# PYTHON picks the interpreter (default: python); sioclient must be importable by it.
set -u
PY=${PYTHON:-python}
HERE=$(cd "$(dirname "$0")" && pwd)

sio() { "$PY" -m sioclient "$@"; }

if [ $# -ge 1 ]; then
  URL=$1
else
  # the server stops when its stdin, held open by this script, closes
  coproc SERVER { exec "$PY" "$HERE/echo_server.py"; }
  SERVER_IN=${SERVER[1]}
  trap 'exec {SERVER_IN}>&-; wait' EXIT
  if ! read -r -t 30 line <&"${SERVER[0]}"; then
    echo "the echo server did not start" >&2
    exit 1
  fi
  URL="http://127.0.0.1:$(sed -E 's/.*"port": *([0-9]+).*/\1/' <<<"$line")"
fi

echo "== call: the ack, as JSON, in a variable"
ack=$(sio call "$URL" echo '{"n": 41}') || exit
echo "acked with $ack"

echo "== listen: three events as JSON lines (asked for with --emit)"
sio listen "$URL" tick --emit 'flood 3' --count 3 --quiet

echo "== exit status: 1 refused, 3 timeout"
sio call "$URL/private" echo '"let me in"' --quiet
echo "without the token: status $?"
sio call "$URL/private" echo '"let me in"' --auth '{"token": "secret"}'
echo "with the token: status $?"
sio listen "$URL" never-sent --count 1 --timeout 0.5 --quiet
echo "no such event within 0.5 s: status $?"

if "$PY" -c "import hdrh" 2>/dev/null; then
  echo "== bench: 5 clients for 2 s"
  sio bench "$URL" --clients 5 --duration 2
else
  echo "== bench skipped: pip install 'sioclient[cli]' for its percentiles"
fi
