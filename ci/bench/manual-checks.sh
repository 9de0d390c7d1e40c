#!/usr/bin/env bash
# The pipeline's gates done by hand, as a baseline for bench/pipeline: build,
# inspect, run until healthy, Trivy secret+misconfig scan, compose up/down.
set -euo pipefail
cd "$(dirname "$0")/../.."
ca=()
[ -n "${NPM_CA_FILE:-}" ] && ca=(--secret "id=npm_ca,src=$NPM_CA_FILE")
docker build -q "${ca[@]}" -t todo-mcp:bench-manual . >/dev/null
docker image inspect --format '{{.Config.User}} {{.Size}}' todo-mcp:bench-manual >/dev/null
id=$(SERVICE_AUTH_TOKEN=bench docker run -d -e SERVICE_AUTH_TOKEN todo-mcp:bench-manual)
trap 'docker rm -f "$id" >/dev/null 2>&1 || true' EXIT
until [ "$(docker inspect --format '{{.State.Health.Status}}' "$id")" = healthy ]; do sleep 0.5; done
tmp=$(mktemp -d)
docker save todo-mcp:bench-manual -o "$tmp/image.tar"
trivy image --input "$tmp/image.tar" --scanners secret,misconfig --skip-db-update --skip-java-db-update \
  --skip-check-update --offline-scan --quiet --format json -o "$tmp/trivy.json"
rm -rf "$tmp"
export SERVICE_AUTH_TOKEN=bench MCP_IMAGE=todo-mcp:bench-manual MCP_PORT=13999
docker compose -p bench-manual up --build --wait >/dev/null 2>&1
docker compose -p bench-manual down -v >/dev/null 2>&1
