#!/bin/sh
# `make deb` and t_deb: builds the .deb with dpkg-buildpackage -us -uc -b on a copy of the
# source tree in OUT/src (dpkg-buildpackage writes in the tree and beside it), so that the
# .deb, .changes and .buildinfo land in OUT and the checkout stays clean. JOBS: parallel jobs.
set -eu
out="$1"
src=$(cd "$(dirname "$0")/.." && pwd)
mkdir -p "$out"
out=$(cd "$out" && pwd)
rm -rf "$out/src"
mkdir "$out/src"
# the tracked and the new files, as git sees them (a deleted tracked file is skipped)
(cd "$src" && git ls-files -co --exclude-standard | while read -r f; do
	[ -e "$f" ] && printf '%s\0' "$f"; done | xargs -0 cp --parents -t "$out/src")
cd "$out/src"
dpkg-buildpackage -us -uc -b -j"${JOBS:-2}"
