#!/bin/sh
# OCI runtime for dockerd: runc, after clipping the spec's capabilities to the
# machine's bounding set. `npm run setup` installs it as
# $CACHE/runtime/runc-bounded with NODE and CLIP filled in.
NODE="${NODE:-node}"
CLIP="${CLIP:-$(dirname "$0")/clip-caps.mjs}"
spec=""
prev=""
for arg; do
  if [ "$prev" = "--bundle" ] || [ "$prev" = "-b" ]; then spec="$arg/config.json"; fi
  if [ "$prev" = "--process" ] || [ "$prev" = "-p" ]; then spec="$arg"; fi
  prev="$arg"
done
if [ -n "$spec" ] && [ -f "$spec" ]; then
  "$NODE" "$CLIP" "$spec" || exit 1
fi
exec "${RUNC:-runc}" "$@"
