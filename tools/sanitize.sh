#!/bin/sh
# Runs the test suite with the package compiled under AddressSanitizer and
# UndefinedBehaviorSanitizer, in the R already on this machine (no special R build):
# the sanitizer runtime is preloaded into R and the package is installed into a
# private library with -fsanitize flags.
#
#   sh tools/sanitize.sh            all tests
#   sh tools/sanitize.sh em|mstep   tests whose file names match the pattern
#
# Leak detection is off: R itself keeps allocations alive until exit. Any ASan or
# UBSan report fails the run (halt_on_error=1).
set -e
cd "$(dirname "$0")/.."
filter=${1:-}
work=$(mktemp -d)
mkdir -p "$work/lib" "$work/R"
cat > "$work/R/Makevars" <<MK
CFLAGS = -g -O1 -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=undefined
LDFLAGS = -fsanitize=address,undefined
MK
R_MAKEVARS_USER="$work/R/Makevars" R CMD INSTALL --preclean --clean --no-test-load -l "$work/lib" . > "$work/install.log" 2>&1 ||
  { cat "$work/install.log"; exit 1; }
asan=$(gcc -print-file-name=libasan.so)
ubsan=$(gcc -print-file-name=libubsan.so)
export LD_PRELOAD="$asan $ubsan"
export ASAN_OPTIONS=detect_leaks=0:halt_on_error=1:abort_on_error=1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
cd tests
R --vanilla --quiet -e "library(testthat); library(gaussmix, lib.loc = '$work/lib');
  test_dir('testthat', filter = if (nzchar('$filter')) '$filter' else NULL,
           reporter = 'summary', package = 'gaussmix', load_package = 'installed')" 2>&1 |
  tee "$work/tests.log"
if grep -Eq 'ERROR: AddressSanitizer|runtime error:' "$work/tests.log"; then
  echo "sanitizer reports found (log: $work/tests.log)"
  exit 1
fi
echo "no sanitizer reports (log: $work/tests.log)"
