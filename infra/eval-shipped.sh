#!/usr/bin/env bash
# Every shipped labelled set through `npm run eval`, one after the other, with the same options:
#   npm run eval:shipped -- --sample 10 --configs single-prompt,micro-tasks,ladder,routed,large-only --id pov
# An --id becomes <id>-<pipeline>; --out and --html, a folder that gets <pipeline>.json and .html.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
args=() id="" dir=""
while [[ $# -gt 0 ]]; do
  case "$1" in
    --id) id="$2"; shift 2 ;;
    --out-dir) dir="$2"; shift 2 ;;
    *) args+=("$1"); shift ;;
  esac
done
status=0
for set in pipelines/*/eval/*.jsonl; do
  name="$(basename "$(dirname "$(dirname "$set")")")"
  extra=()
  [[ -n "$id" ]] && extra+=(--id "$id-$name")
  [[ -n "$dir" ]] && mkdir -p "$dir" && extra+=(--out "$dir/$name.json" --html "$dir/$name.html")
  echo "=== $name" >&2
  node_modules/.bin/tsx client/eval.ts "$set" ${args[@]+"${args[@]}"} ${extra[@]+"${extra[@]}"} || status=1
done
exit "$status"
