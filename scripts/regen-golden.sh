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
  # A rules file marked "# flags: allow-unverified" (as tests/lib/fixtures_test.cc reads it) is
  # compiled with --allow-unverified.
  flags=()
  if grep -q '^# flags:.*allow-unverified' "fixtures/rules/$rules"; then flags=(--allow-unverified); fi
  "$bin" compile "${flags[@]}" --config "fixtures/models/$model" --rules "fixtures/rules/$rules" \
    -o "fixtures/golden/$name.json" > /dev/null
  echo "fixtures/golden/$name.json"
done < fixtures/golden/LIST
