#!/usr/bin/env bash
# The test command: installs what is missing, then runs every test group against real services.
#   npm test                      unit, integration (real Temporal + Postgres) and model (real local model)
#   npm test -- --project unit    one group
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

bash infra/setup.sh
bash infra/model-server.sh install >&2
node_modules/.bin/tsc --noEmit -p .
exec node_modules/.bin/vitest run "$@"
