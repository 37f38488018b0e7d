#!/usr/bin/env bash
# Installs what layerplan needs to build and test on Debian 12 / Ubuntu 24.04.
# Idempotent: looks for each tool and header (not for a package name, so a cmake or a library
# installed some other way counts) and calls apt-get only for what is really missing.
# Required: a C++17 compiler, cmake, make, CLI11, yaml-cpp, nlohmann_json, fmt, Catch2 (v2 or v3).
# Optional (installed when possible; without them the build leaves the MPI launch path out and
# the schema and browser tests report themselves skipped): Open MPI, valijson, Chromium (the HTML
# report's browser test; about 20 s to install on Debian 12 with a warm mirror), pre-commit (the
# hook's test runs the real one; about 25 s to install on Debian 12, 2 s to run), lld (links the
# test executables in a third of GNU ld's time).
set -euo pipefail

cxx=${CXX:-$(command -v g++ || command -v c++ || true)}
have_header() {  # have_header HEADER... : true when the compiler finds any of them
  [ -n "$cxx" ] || return 1
  local h
  for h in "$@"; do
    printf '#include <%s>\n' "$h" | "$cxx" -std=c++17 -x c++ -E - >/dev/null 2>&1 && return 0
  done
  return 1
}

required=() optional=()
[ -n "$cxx" ]                   || required+=(g++)
command -v cmake >/dev/null     || required+=(cmake)
command -v make >/dev/null      || required+=(make)
have_header CLI/CLI.hpp         || required+=(libcli11-dev)
have_header yaml-cpp/yaml.h     || required+=(libyaml-cpp-dev)
have_header nlohmann/json.hpp   || required+=(nlohmann-json3-dev)
have_header fmt/core.h          || required+=(libfmt-dev)
have_header catch2/catch.hpp catch2/catch_test_macros.hpp || required+=(catch2)
command -v mpicxx >/dev/null    || optional+=(libopenmpi-dev)
command -v mpirun >/dev/null    || optional+=(openmpi-bin)
have_header valijson/validator.hpp || optional+=(libvalijson-dev)
command -v chromium >/dev/null || command -v chromium-browser >/dev/null || optional+=(chromium)
command -v pre-commit >/dev/null || optional+=(pre-commit)
command -v ld.lld >/dev/null || optional+=(lld)

missing=("${required[@]}" "${optional[@]}")
[ ${#missing[@]} -eq 0 ] && exit 0

sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
echo "layerplan: installing ${missing[*]}" >&2
if $sudo apt-get update -qq &&
   DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends \
     "${missing[@]}" >/dev/null; then
  exit 0
fi
if [ ${#required[@]} -gt 0 ]; then
  echo "layerplan: could not install ${required[*]}, which the build needs; install them and run again" >&2
  exit 1
fi
echo "layerplan: could not install the optional ${optional[*]}; going on without them" >&2
