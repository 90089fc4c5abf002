#!/usr/bin/env bash
# Start Stoplight Prism (a spec-validating mock) on the vendored OpenAPI spec, on 127.0.0.1 only, in the
# background; wait until it answers; print its PID on stdout (and nothing else on stdout).
#
#   scripts/prism.sh [start] [PORT] [extra `prism mock` args]   # default port 4010
#   scripts/prism.sh stop PID                                   # or: kill PID
#
# Base URL for clients: http://127.0.0.1:PORT (no /v1). Then, e.g.:
#   OPENAI_ASYNC_PRISM_URL=http://127.0.0.1:4010 .venv/bin/python scripts/conformance.py
#
# Prism 5.14.2 is pinned in scripts/prism/package.json (5.15+ needs Node >= 24.14). The spec is first
# rewritten by scripts/prism/prism_spec_fix.py (see its docstring: without it Prism silently skips body
# validation for 11 operations and sends an invalid Transfer-Encoding on /audio/speech).
# env: PRISM_DIR (npm install dir, default $TMPDIR/openai-async-prism), PRISM_FIX_ARGS, PRISM_TIMEOUT (120),
#      PRISM_VERBOSE (warn), PYTHON (the interpreter with PyYAML; default .venv/bin/python, then python3).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
if [ "${1:-}" = "stop" ]; then kill "${2:?usage: prism.sh stop PID}"; exit 0; fi
[ "${1:-}" = "start" ] && shift
port="${1:-4010}"; [ $# -gt 0 ] && shift
dir="${PRISM_DIR:-${TMPDIR:-/tmp}/openai-async-prism}"
log="$dir/prism-$port.log"
py="${PYTHON:-$root/.venv/bin/python}"; [ -x "$py" ] || py=python3
mkdir -p "$dir"
if [ ! -x "$dir/node_modules/.bin/prism" ] || ! cmp -s "$root/scripts/prism/package.json" "$dir/package.json"; then
  cp "$root/scripts/prism/package.json" "$dir/package.json"
  (cd "$dir" && npm install --no-audit --no-fund --silent >&2)
fi
fixed="$dir/spec-$port.yaml"
# shellcheck disable=SC2086
"$py" "$root/scripts/prism/prism_spec_fix.py" "$root/spec/openapi.yaml" "$fixed" ${PRISM_FIX_ARGS:-} >&2
setsid "$dir/node_modules/.bin/prism" mock -h 127.0.0.1 -p "$port" -v "${PRISM_VERBOSE:-warn}" "$@" "$fixed" \
  >"$log" 2>&1 </dev/null &
pid=$!
deadline=$(( $(date +%s) + ${PRISM_TIMEOUT:-120} ))
until code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 2 "http://127.0.0.1:$port/" 2>/dev/null) \
      && [ "$code" != "000" ]; do
  if ! kill -0 "$pid" 2>/dev/null; then echo "prism exited; log: $log" >&2; tail -n 30 "$log" >&2; exit 1; fi
  if [ "$(date +%s)" -ge "$deadline" ]; then echo "prism not ready; log: $log" >&2; kill "$pid"; exit 1; fi
  sleep 0.2
done
echo "prism ready on http://127.0.0.1:$port (pid $pid, log $log)" >&2
echo "$pid"
