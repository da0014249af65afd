#!/bin/sh
# Runs every built libFuzzer target over its corpus, then for $2 seconds.
# Usage: run.sh BUILD_DIR SECONDS   (SECONDS 0: replay the corpus only)
set -eu
dir=$1
secs=$2
here=$(cd "$(dirname "$0")" && pwd)
for bin in "$dir"/fuzz_*; do
	[ -f "$bin" ] && [ -x "$bin" ] || continue
	name=$(basename "$bin")
	parser=${name#fuzz_}
	corpus=$here/corpus/$parser
	mkdir -p "$corpus"
	dict=""
	[ -f "$here/$name.dict" ] && dict="-dict=$here/$name.dict"
	work=$(mktemp -d)
	if [ "$secs" -gt 0 ]; then
		echo "fuzz: $name for ${secs}s"
		"$bin" $dict -max_total_time="$secs" -max_len=4096 \
		    -artifact_prefix="$here/" "$work" "$corpus" >"$work.log" 2>&1 ||
		    { tail -40 "$work.log"; rm -rf "$work" "$work.log"; exit 1; }
	else
		echo "fuzz: $name replay"
		"$bin" -runs=0 "$corpus" >"$work.log" 2>&1 ||
		    { tail -40 "$work.log"; rm -rf "$work" "$work.log"; exit 1; }
	fi
	rm -rf "$work" "$work.log"
done
