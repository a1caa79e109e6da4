#!/usr/bin/env bash
# Build the Go module in directory $1 into a cache outside the repository and print the
# directory holding the binary. The cache key is the module's go.mod, go.sum and Go sources
# (which pin every version) and the Go toolchain, so a second run finds the binary and
# builds nothing. Usage: tools/build-go-tool.sh tools/controlplane [extra names to link]
set -euo pipefail
module_dir=$1; shift
name=$(basename "$module_dir")
cache_root=${HIGHPEAKS_TOOL_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/highpeaks-agent/tools}
# An optional file "ldflags" beside go.mod stamps versions into the binary (-X flags).
ldflags="-s -w $(cat "$module_dir/ldflags" 2>/dev/null || true)"
key=$( (go version; echo "$ldflags"; cat "$module_dir"/go.mod "$module_dir"/go.sum "$module_dir"/*.go) | sha256sum | cut -c1-16)
out="$cache_root/$name-$key"
if [ ! -x "$out/$name" ]; then
    mkdir -p "$cache_root"
    tmp=$(mktemp -d "$cache_root/.build-$name.XXXXXX")
    start=$(date +%s)
    echo "building $name (key $key) into $out; a cold build takes many minutes" >&2
    (cd "$module_dir" && go build -trimpath -ldflags="$ldflags" -o "$tmp/$name" .)
    for alias in "$@"; do ln -sf "$name" "$tmp/$alias"; done
    # Publish whole or not at all: a build cut off half way leaves no binary behind.
    rm -rf "$out" && mv "$tmp" "$out"
    echo "built $name in $(( $(date +%s) - start )) s" >&2
fi
echo "$out"
