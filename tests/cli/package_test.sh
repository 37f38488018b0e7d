#!/usr/bin/env bash
# Installing layerplan as a tool. Usage: package_test.sh install|deb BUILD_DIR SOURCE_DIR
#   install: `cmake --install` into a scratch prefix; the binary runs from there, and the man
#            page, the bash and zsh completions and the schemas are where they belong.
#   deb:     `cpack -G DEB` builds layerplan_<version>_<arch>.deb, `apt-get install ./…deb`
#            installs it (its dependencies are the build's, installed already: nothing is
#            downloaded; dpkg -i where apt-get is absent), the installed
#            layerplan runs, and removing the package takes its files away. Needs root and dpkg:
#            prints "SKIPPED: ..." (ctest reports the test skipped) without them, or when a
#            layerplan package is installed already (the test never touches one it did not
#            install).
set -euo pipefail
mode=$1 build=$2 src=$3
start=$(date +%s.%N)
fail() { echo "FAILED: $*"; exit 1; }
took() {
  awk -v start="$start" -v end="$(date +%s.%N)" -v what="$1" 'BEGIN { printf "%s in %.1f s\n", what, end - start }'
}
scratch=$(mktemp -d /tmp/layerplan_package_XXXXXX)
installed=0
cleanup() {
  if [ "$installed" = 1 ]; then dpkg -r layerplan > /dev/null 2>&1 || true; fi
  rm -rf "$scratch"
}
trap cleanup EXIT
rules=$src/fixtures/rules/good_llama8b_tpa.yaml
config=$src/fixtures/models/llama3_8b.json

# The files of the cli component, under a root (a prefix, or / for the package).
# Minimal images (Ubuntu's container images among them) tell dpkg not to install anything under
# /usr/share/man: there the installed package is checked for everything but the man page, which
# is checked in the package's contents instead.
man_dropped_by_dpkg() { grep -qs '^path-exclude=/usr/share/man' /etc/dpkg/dpkg.cfg.d/*; }
check_files() {
  local root=$1 man=share/man/man1/layerplan.1
  if [ "$root" = /usr ] && man_dropped_by_dpkg; then
    echo "dpkg here excludes /usr/share/man (/etc/dpkg/dpkg.cfg.d): the man page is checked in the package"
    grep -q " ./usr/$man\$" "$scratch/contents" || fail "the package holds no usr/$man"
    man=
  fi
  for f in bin/layerplan $man share/bash-completion/completions/layerplan \
           share/zsh/vendor-completions/_layerplan share/layerplan/schemas/manifest.schema.json \
           share/layerplan/schemas/rules.schema.json; do
    [ -f "$root/$f" ] || fail "$root/$f is missing"
  done
  if [ -n "$man" ]; then
    grep -q '^\.TH LAYERPLAN 1' "$root/$man" || fail "the man page is not roff"
  fi
  grep -q '^complete -o filenames -F _layerplan layerplan$' \
    "$root/share/bash-completion/completions/layerplan" || fail "no bash completion"
  grep -q '^#compdef layerplan$' "$root/share/zsh/vendor-completions/_layerplan" || fail "no zsh completion"
  # The bash completion completes commands and --format's values.
  local got
  got=$(bash -c 'source "$1"; COMP_WORDS=(layerplan di); COMP_CWORD=1; _layerplan; echo "${COMPREPLY[*]}"' \
          _ "$root/share/bash-completion/completions/layerplan")
  [ "$got" = diff ] || fail "bash completion of 'di' gave '$got'"
}

# The installed binary runs without the build tree.
check_runs() {
  local bin=$1
  "$bin" -V | grep -q '^layerplan ' || fail "$bin -V"
  (cd "$scratch" && "$bin" check --no-project --config "$config" "$rules") > "$scratch/check.out" ||
    { cat "$scratch/check.out"; fail "$bin check"; }
  grep -q "1 file: 1 OK, 0 INVALID, 0 unreadable" "$scratch/check.out" || fail "no summary"
  ldd "$bin" > "$scratch/ldd"
  if grep -qiE 'libmpi|libcuda|libnccl' "$scratch/ldd"; then fail "$bin links MPI or CUDA"; fi
}

case $mode in
  install)
    prefix=$scratch/prefix
    cmake --install "$build" --prefix "$prefix" --component cli > "$scratch/install.log" ||
      { cat "$scratch/install.log"; fail "cmake --install"; }
    check_files "$prefix"
    check_runs "$prefix/bin/layerplan"
    if [ -f "$build/smoke/layerplan-mpi.so" ]; then
      cmake --install "$build" --prefix "$prefix" --component mpi > /dev/null
      [ -f "$prefix/lib/layerplan/layerplan-mpi.so" ] || fail "the MPI plugin was not installed"
    fi
    took "cmake --install, checked"
    ;;
  deb)
    if [ "$(id -u)" != 0 ]; then echo "SKIPPED: installing a .deb needs root"; exit 0; fi
    for tool in dpkg dpkg-deb cpack; do
      command -v "$tool" > /dev/null || { echo "SKIPPED: $tool is not installed"; exit 0; }
    done
    if dpkg-query -W -f='${Status}' layerplan 2> /dev/null | grep -q 'ok installed'; then
      echo "SKIPPED: a layerplan package is installed already; the test leaves it alone"
      exit 0
    fi
    (cd "$scratch" && cpack -G DEB --config "$build/CPackConfig.cmake" -B "$scratch/out") \
      > "$scratch/cpack.log" 2>&1 || { cat "$scratch/cpack.log"; fail "cpack -G DEB"; }
    debs=("$scratch"/out/layerplan_*.deb)
    [ -f "${debs[0]}" ] || { ls -R "$scratch/out"; fail "no layerplan_*.deb"; }
    deb=${debs[0]}
    took "cpack -G DEB ($(basename "$deb"), $(du -k "$deb" | cut -f1) KiB)"
    echo "Depends: $(dpkg-deb -f "$deb" Depends)"
    dpkg-deb -c "$deb" > "$scratch/contents"
    grep -q ' ./usr/bin/layerplan$' "$scratch/contents" || fail "the package holds no usr/bin/layerplan"
    if dpkg-deb -f "$deb" Depends | grep -qi mpi; then fail "the layerplan package depends on MPI"; fi
    installed=1
    if command -v apt-get > /dev/null; then
      (cd "$(dirname "$deb")" && apt-get install -y -qq "./$(basename "$deb")") \
        > "$scratch/apt.log" 2>&1 || { cat "$scratch/apt.log"; fail "apt-get install ./$(basename "$deb")"; }
    else
      dpkg -i "$deb" > "$scratch/apt.log" 2>&1 || { cat "$scratch/apt.log"; fail "dpkg -i"; }
    fi
    took "installed"
    check_files /usr
    check_runs /usr/bin/layerplan
    dpkg -r layerplan > "$scratch/remove.log" 2>&1 || { cat "$scratch/remove.log"; fail "dpkg -r layerplan"; }
    installed=0
    [ ! -e /usr/bin/layerplan ] || fail "/usr/bin/layerplan is still there after removal"
    [ ! -e /usr/share/man/man1/layerplan.1 ] || fail "the man page is still there after removal"
    took "built, installed, run and removed"
    ;;
  *) fail "mode $mode" ;;
esac
