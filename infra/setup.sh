#!/usr/bin/env bash
# Installs what the project needs, idempotently: npm packages and the Temporal CLI.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ] || [ ! -x node_modules/.bin/tsx ]; then
  echo "installing npm packages..." >&2
  # npm install, not npm ci: npm 11's ci trips on swc's optional platform packages in the lockfile
  npm install --no-audit --no-fund --loglevel=error >&2
fi
node_modules/.bin/tsx infra/temporal.ts cli >/dev/null
