#!/bin/sh
# Builds the package (with its vignettes) and runs R CMD check --as-cran on the
# tarball, which installs it and runs the tests. Fails on any ERROR or WARNING,
# and ends with the test counts on a line of their own.
set -e
cd "$(dirname "$0")/.."
out=${GAUSSMIX_CHECK_DIR:-$(mktemp -d)}
R CMD build --no-resave-data . >"$out/build.log" 2>&1 || { cat "$out/build.log"; exit 1; }
tarball=$(ls -t gaussmix_*.tar.gz | head -n 1)
mv "$tarball" "$out/"
# No network here: skip the CRAN incoming and clock checks that need it. No LaTeX:
# the PDF manual is not built (the Rd files are still checked).
export _R_CHECK_CRAN_INCOMING_REMOTE_=false _R_CHECK_SYSTEM_CLOCK_=false
export _R_CHECK_FORCE_SUGGESTS_=false OMP_THREAD_LIMIT=2
status=0
(cd "$out" && R CMD check --as-cran --no-manual "$tarball") || status=$?
log="$out/gaussmix.Rcheck/00check.log"
rout="$out/gaussmix.Rcheck/tests/testthat.Rout"
[ -f "$rout" ] || rout="$rout.fail"
if [ -f "$rout" ]; then
  tail -n 25 "$rout"
  counts=$(grep -Eo '\[ FAIL [0-9]+ \| WARN [0-9]+ \| SKIP [0-9]+ \| PASS [0-9]+ \]' "$rout" | tail -n 1)
  if [ -n "$counts" ]; then
    set -- $(echo "$counts" | tr -dc '0-9 ' )
    echo "tests: $4 passed, $1 failed, $3 skipped"
  fi
fi
if grep -Eq '^\* .*\.\.\. (ERROR|WARNING)' "$log" || [ "$status" -ne 0 ]; then
  echo "R CMD check found problems:"
  grep -E -A 12 '\.\.\. (ERROR|WARNING)' "$log" || true
  exit 1
fi
grep -E '^Status:' "$log"
