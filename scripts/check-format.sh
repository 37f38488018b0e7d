#!/usr/bin/env bash
# Checks that every tracked C++ file follows .clang-format, with clang-format 14 (Debian 12's;
# other versions format some constructs differently, so the check pins one). Installs it when
# missing. `scripts/check-format.sh --fix` rewrites the files instead.
set -euo pipefail
cd "$(dirname "$0")/.."
tool=$(command -v clang-format-14 || true)
if [ -z "$tool" ]; then
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  echo "layerplan: installing clang-format-14" >&2
  $sudo apt-get update -qq && DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq \
    --no-install-recommends clang-format-14 > /dev/null
  tool=$(command -v clang-format-14)
fi
mapfile -t files < <(git ls-files '*.cc' '*.h')
if [ "${1:-}" = --fix ]; then
  "$tool" -i "${files[@]}"
  exit 0
fi
if ! "$tool" --dry-run --Werror "${files[@]}" 2> /tmp/layerplan-format.$$; then
  grep -E '^[^ ].*: (error|warning):' /tmp/layerplan-format.$$ | cut -d: -f1 | sort | uniq -c >&2
  rm -f /tmp/layerplan-format.$$
  echo "layerplan: these files do not follow .clang-format; run scripts/check-format.sh --fix" >&2
  exit 1
fi
rm -f /tmp/layerplan-format.$$
echo "layerplan: ${#files[@]} C++ files follow .clang-format"
