#!/usr/bin/env bash
# The test command: installs what is missing, then runs every test group against real services.
#   npm test                      unit, integration (real Temporal + Postgres) and model (real local model)
#   npm test -- --project unit    one group
# Services the tests start (the embedded Postgres, the local model servers) are stopped again at
# the end; ones that were already running are left as they were.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

bash infra/setup.sh
# the report page's and the API docs page's tests run in Debian's chromium; as root with apt, install it when missing
if [[ -z "${CHROMIUM:-}" ]] && ! command -v chromium >/dev/null 2>&1 && [[ "$(id -u)" == 0 ]] && command -v apt-get >/dev/null 2>&1; then
  echo "installing chromium for the report page and API docs tests..." >&2
  apt-get update -qq >&2 && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >&2
fi
bash infra/model-server.sh install >&2
node_modules/.bin/tsc --noEmit -p .

TSX=node_modules/.bin/tsx
postgres_was_up=yes
[[ -n "${DATABASE_URL:-}" ]] || "$TSX" infra/postgres.ts status >/dev/null 2>&1 || postgres_was_up=no
# the stack's Temporal dev server answers on its port when the stack is up
stack_was_up=yes
(exec 3<>"/dev/tcp/127.0.0.1/${TEMPORAL_PORT:-7233}") 2>/dev/null || stack_was_up=no
models_down=()
for m in small large; do MODEL_NAME=$m bash infra/model-server.sh status >/dev/null 2>&1 || models_down+=("$m"); done

status=0
# the exit code alone is not trusted: embedded-postgres's exit hook (async-exit-hook) ends the
# vitest process with 0 on beforeExit, whatever failed; the JSON report says what happened
report="$(mktemp)"
node_modules/.bin/vitest run --reporter=default --reporter=json --outputFile.json="$report" "$@" || status=$?
if [[ "$status" == 0 ]]; then
  node -e '
    const r = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
    const failed = r.numFailedTests + r.numFailedTestSuites + (r.success === false ? 1 : 0);
    if (r.numTotalTests === 0 || failed > 0) { console.error(`test report: ${r.numFailedTests} failed test(s), ${r.numFailedTestSuites} failed file(s) of ${r.numTotalTests} test(s)`); process.exit(1); }
  ' "$report" || status=1
fi
rm -f "$report"

# contract calibration on every shipped labelled set, as its own step: correct answers the
# contracts reject (gold as model) fail it, and so does a share of caught mutants under the floor
if [[ $# -eq 0 ]]; then
  for set in pipelines/*/eval/*.jsonl; do
    echo "calibration: $set" >&2
    out="$(mktemp)"
    if "$TSX" client/eval.ts "$set" --gold-as-model --mutants --min-caught 0.5 >"$out" 2>&1; then
      grep -E '^(gold as model|mutants:)' "$out" >&2 || true
    else
      cat "$out" >&2
      echo "calibration failed on $set" >&2
      status=1
    fi
    rm -f "$out"
  done
fi

# the example package: a pipeline of its own, defined and run with the library as an npm user
# would (its own package.json, `microtask-pipelines` as a dependency), end to end on the local model
if [[ $# -eq 0 ]]; then
  echo "example: examples/expense-claims" >&2
  started=$(date +%s)
  if (cd examples/expense-claims && npm install --no-audit --no-fund --loglevel=error >&2 && npm start --silent); then
    echo "example: passed in $(( $(date +%s) - started )) s" >&2
  else
    echo "example: failed" >&2
    status=1
  fi
  if [[ "$stack_was_up" == no ]]; then "$TSX" infra/stack.ts down >/dev/null 2>&1 || true; fi
fi

# ${a[@]+...}: an empty array is "unbound" to bash before 4.4 under set -u
for m in ${models_down[@]+"${models_down[@]}"}; do MODEL_NAME=$m bash infra/model-server.sh stop >/dev/null || true; done
if [[ "$postgres_was_up" == no ]]; then "$TSX" infra/postgres.ts stop >/dev/null 2>&1 || true; fi
exit "$status"
