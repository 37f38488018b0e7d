#!/usr/bin/env bash
# The layerplan-check hook of .pre-commit-hooks.yaml, run by the real pre-commit (Debian's
# package) on a scratch git repository: `pre-commit install`, then `git commit` of a good rules
# file passes, a bad one is refused with layerplan's diagnostics, a YAML file without
# parallelism_rules is left alone. Usage: pre_commit_test.sh SOURCE_DIR LAYERPLAN_BINARY.
# Prints "SKIPPED: ..." (ctest reports the test skipped) where pre-commit or git is absent.
set -euo pipefail
src=$1 bin=$2
for tool in pre-commit git; do
  if ! command -v "$tool" > /dev/null; then
    echo "SKIPPED: $tool is not installed (scripts/install-deps.sh installs Debian's pre-commit)"
    exit 0
  fi
done
start=$(date +%s.%N)
scratch=$(mktemp -d /tmp/layerplan_pre_commit_XXXXXX)
trap 'rm -rf "$scratch"' EXIT
# Everything pre-commit and git write stays in the scratch directory; no network.
export HOME=$scratch/home PRE_COMMIT_HOME=$scratch/cache GIT_CONFIG_NOSYSTEM=1
export PATH="$(dirname "$bin"):$PATH" NO_COLOR=1
unset GITHUB_ACTIONS
mkdir -p "$HOME"
git config --global user.name test && git config --global user.email test@example.invalid
git config --global init.defaultBranch main
git config --global protocol.file.allow always

# The hook repository: this source tree's .pre-commit-hooks.yaml, committed.
hooks=$scratch/hooks
mkdir -p "$hooks" && cp "$src/.pre-commit-hooks.yaml" "$hooks/"
git -C "$hooks" init -q && git -C "$hooks" add . && git -C "$hooks" commit -qm hooks
rev=$(git -C "$hooks" rev-parse HEAD)

repo=$scratch/repo
mkdir -p "$repo/models" "$repo/plans" "$repo/.github"
cp "$src/fixtures/models/llama3_8b.json" "$repo/models/"
cat > "$repo/.pre-commit-config.yaml" <<YAML
repos:
  - repo: $hooks
    rev: $rev
    hooks:
      - id: layerplan-check
        verbose: true   # show layerplan's report when the hook passes, too
YAML
cd "$repo"
git init -q
pre-commit install > /dev/null
fail() { echo "FAILED: $*"; exit 1; }

# A YAML file that holds no plan, and a good plan: the commit goes through.
printf 'name: ci\non: push\n' > .github/ci.yaml
cat > plans/good.yaml <<'YAML'
model: ../models/llama3_8b.json
parallelism_rules:
  axes: {tp: 8}
  rules:
    - match: {kind: attention}
      plan: {tp_size: tp}
YAML
git add -A
git commit -qm good > "$scratch/good.log" 2>&1 || { cat "$scratch/good.log"; fail "the good commit was refused"; }
grep -q "layerplan check.*Passed" "$scratch/good.log" || { cat "$scratch/good.log"; fail "the hook did not run"; }

# A bad plan: the commit is refused, with the diagnostic at its line.
cat > plans/bad.yaml <<'YAML'
model: ../models/llama3_8b.json
parallelism_rules:
  axes: {tp: 8, dcp: 3}
  rules: []
YAML
git add plans/bad.yaml
if git commit -qm bad > "$scratch/bad.log" 2>&1; then cat "$scratch/bad.log"; fail "the bad commit went through"; fi
grep -q "layerplan check.*Failed" "$scratch/bad.log" || { cat "$scratch/bad.log"; fail "no Failed line"; }
grep -q "plans/bad.yaml:3:22: error: dcp (3) does not divide tp (8) \[dcp-divides-tp\]" "$scratch/bad.log" ||
  { cat "$scratch/bad.log"; fail "no diagnostic"; }
grep -q "1 file: 0 OK, 1 INVALID, 0 unreadable" "$scratch/bad.log" || { cat "$scratch/bad.log"; fail "no summary"; }
[ "$(git rev-list --count HEAD)" = 1 ] || fail "the bad commit was recorded"

# Only the YAML file that holds no plan changed: the hook skips it and passes.
git reset -q plans/bad.yaml && rm plans/bad.yaml
printf 'name: ci\non: [push, pull_request]\n' > .github/ci.yaml
git add -A
git commit -qm workflow > "$scratch/skip.log" 2>&1 || { cat "$scratch/skip.log"; fail "a YAML file without a plan was refused"; }
grep -q "(1 skipped: no parallelism_rules)" "$scratch/skip.log" || { cat "$scratch/skip.log"; fail "no skip line"; }

awk -v start="$start" -v end="$(date +%s.%N)" -v version="$(pre-commit --version)" \
  'BEGIN { printf "%s: 3 commits through the hook in %.1f s\n", version, end - start }'
