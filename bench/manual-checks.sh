#!/usr/bin/env bash
# The pipeline's gates done by hand, as a baseline for `npm run bench`: build, inspect the
# config, run until Docker says healthy, a Trivy scan with SARIF and SBOM, the compose stack up
# and down with an MCP client's view of it (the conformance suite and tools/list).
set -euo pipefail
cd "$(dirname "$0")/.."
ca=()
[ -n "${NPM_CA_FILE:-}" ] && ca=(--secret "id=npm_ca,src=$NPM_CA_FILE")
docker build -q "${ca[@]}" --target mcp-server -t todo-mcp:bench-manual . >/dev/null
docker image inspect --format '{{.Config.User}} {{.Size}}' todo-mcp:bench-manual >/dev/null
id=$(SERVICE_AUTH_TOKEN=bench docker run -d -e SERVICE_AUTH_TOKEN todo-mcp:bench-manual)
trap 'docker rm -f "$id" >/dev/null 2>&1 || true' EXIT
until [ "$(docker inspect --format '{{.State.Health.Status}}' "$id")" = healthy ]; do sleep 0.5; done
tmp=$(mktemp -d)
docker save todo-mcp:bench-manual -o "$tmp/image.tar"
trivy image --input "$tmp/image.tar" --scanners secret,misconfig --list-all-pkgs --skip-db-update \
  --skip-java-db-update --skip-check-update --offline-scan --quiet --format json -o "$tmp/trivy.json"
trivy convert --quiet --format sarif -o "$tmp/trivy.sarif" "$tmp/trivy.json"
trivy convert --quiet --format cyclonedx -o "$tmp/sbom.json" "$tmp/trivy.json"
export SERVICE_AUTH_TOKEN=bench MCP_IMAGE=todo-mcp:bench-manual MCP_PORT=13999
docker compose -p bench-manual up --build --wait >/dev/null 2>&1
suite=node_modules/@modelcontextprotocol/conformance/dist/index.js
for scenario in server-initialize ping tools-list dns-rebinding-protection; do
  node "$suite" server --url http://127.0.0.1:13999/mcp --scenario "$scenario" --output-dir "$tmp/conformance" >/dev/null
done
docker compose -p bench-manual down -v >/dev/null 2>&1
rm -rf "$tmp"
