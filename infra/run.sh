#!/usr/bin/env bash
# The main job: brings the stack up (with the HTTP API) and runs a shipped pipeline end to end.
#   npm start                              product-review on its first sample
#   npm start -- <pipeline> [input.json]   another pipeline or input
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

pipeline="${1:-product-review}"
if [ -n "${2:-}" ]; then
  input="$(cd "$OLDPWD" && realpath "$2")"
elif [ -z "${1:-}" ]; then
  input="pipelines/product-review/samples/wireless-headphones.json"
else
  input="$(ls pipelines/"$pipeline"/samples/*.json 2>/dev/null | head -n 1 || true)"
  [ -n "$input" ] || { echo "no sample input for pipeline \"$pipeline\" (pipelines/$pipeline/samples/)" >&2; exit 2; }
fi

bash infra/setup.sh
node_modules/.bin/tsx infra/stack.ts up
node_modules/.bin/tsx client/run-pipeline.ts "$pipeline" "$input"
status=$?
api="http://${API_HOST:-127.0.0.1}:${API_PORT:-8080}"
echo "the HTTP API runs at $api (docs $api/docs); a key for it: npm run keys -- create --name me --pipelines '*' --daily-budget-usd 5" >&2
echo "the stack keeps running for the Temporal UI and the API; stop it with: npm run infra -- down" >&2
exit $status
