#!/usr/bin/env bash
# Warm pipeline (no change since the last run) against the same gates done by
# hand. Needs `npm run setup` and hyperfine (Debian package `hyperfine`).
set -euo pipefail
cd "$(dirname "$0")/../.."
bin="${MCP_PIPELINE_BIN:-${MCP_PIPELINE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/mcp-pipeline}/bin}"
export PATH="$bin:$PATH"
export NPM_CA_FILE="${NPM_CA_FILE:-/etc/ssl/certs/ca-certificates.crt}"
command -v hyperfine >/dev/null || { echo "bench: install hyperfine (apt-get install hyperfine)" >&2; exit 2; }
hyperfine --warmup 1 --runs "${RUNS:-3}" \
  --command-name "pipeline verify (warm)" "npm run -s pipeline -- verify --no-publish --report-dir .pipeline-test/bench-report" \
  --command-name "same gates by hand" "bash ci/bench/manual-checks.sh"
