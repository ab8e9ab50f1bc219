#!/bin/sh
# Installs gaussmix as a CRAN install would: builds the source package with its
# vignettes (knitr, rmarkdown and pandoc, which tools/install-deps.sh installs),
# then installs the tarball, so that vignette("heights", package = "gaussmix")
# and browseVignettes("gaussmix") find them.
set -e
cd "$(dirname "$0")/.."
tmp=$(mktemp -d)
R CMD build --no-resave-data --no-manual . >"$tmp/build.log" 2>&1 || { cat "$tmp/build.log"; exit 1; }
tarball=$(ls -t gaussmix_*.tar.gz | head -n 1)
mv "$tarball" "$tmp/"
R CMD INSTALL "$tmp/$tarball"
rm -rf "$tmp"
