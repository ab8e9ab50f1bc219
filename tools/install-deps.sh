#!/bin/sh
# Installs what gaussmix needs on a fresh Debian machine with R:
#   sh tools/install-deps.sh          the compiler toolchain, R headers, and what builds the
#                                     vignettes (to install the package as tools/install.sh does)
#   sh tools/install-deps.sh --test   also what the tests and R CMD check use
# Debian's prebuilt r-cran-* packages are used where apt-get is available as root;
# otherwise the R packages come from CRAN.
set -e
run_pkgs="r-base-dev r-cran-knitr r-cran-rmarkdown pandoc"
test_pkgs="r-cran-testthat r-cran-mclust r-cran-generics r-cran-bigmemory qpdf tidy"
run_cran='c("knitr", "rmarkdown")'
cran_pkgs='c("testthat", "mclust", "knitr", "rmarkdown", "generics", "bigmemory")'

pkgs=$run_pkgs
[ "${1:-}" = "--test" ] && pkgs="$run_pkgs $test_pkgs"

missing=""
for p in $pkgs; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing="$missing $p"
done
if [ -z "$missing" ]; then
  echo "install-deps: everything needed is installed"
elif command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
  echo "install-deps: installing$missing"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $missing
else
  echo "install-deps: no root apt-get; installing R packages from CRAN (pandoc must be there)"
  [ "${1:-}" = "--test" ] && run_cran=$cran_pkgs
  Rscript -e "p <- $run_cran; p <- p[!p %in% rownames(installed.packages())];
    if (length(p)) install.packages(p, repos = 'https://cloud.r-project.org')"
fi
