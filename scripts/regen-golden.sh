#!/usr/bin/env bash
# Regenerates the golden manifests under fixtures/golden/ with a built layerplan.
# Usage: scripts/regen-golden.sh [path/to/layerplan]   (default: build/cli/layerplan)
# Run from anywhere; paths in the manifests are relative to the repository root.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
bin=${1:-$root/build/cli/layerplan}
cd "$root"
while read -r name model rules; do
  [ -z "$name" ] && continue
  "$bin" compile --config "fixtures/models/$model" --rules "fixtures/rules/$rules" \
    -o "fixtures/golden/$name.json" > /dev/null
  echo "fixtures/golden/$name.json"
done < fixtures/golden/LIST
