#!/usr/bin/env bash
# Build and publish time for one platform against two, cold and warm, every check skipped:
#   cold  every Dockerfile step runs again (a fresh value is echoed in the deps and node
#         stages); base images and npm's download cache are already in the engine
#   warm  the same build once more
# Prints the stage times of each run, then each platform's size in the last index.
# Needs `npm run setup`; publishes to the local authenticated registry.
set -euo pipefail
cd "$(dirname "$0")/.."
skip=(--skip non-root --skip size-budget --skip healthcheck --skip trivy --skip trivy-vulnerabilities --skip compose-smoke)
dir=.pipeline-test/bench-platforms
mkdir -p "$dir"
repo="172.17.0.1:5001/bench-platforms-$(date +%s)"
stages() { sed 's/\x1b\[[0-9;]*m//g' "$1" | grep -E '^(build|publish) +done' | tr -s ' ' | paste -sd ' ' -; }
for platforms in linux/amd64 linux/amd64,linux/arm64; do
  nonce=$(date +%s%N)
  sed -e "s|^WORKDIR /src\$|WORKDIR /src\nRUN echo $nonce > /tmp/bench|" \
      -e "s|^FROM \${NODE_IMAGE} AS node\$|FROM \${NODE_IMAGE} AS node\nRUN echo $nonce > /tmp/bench|" \
      Dockerfile > "$dir/Dockerfile"
  for run in cold warm; do
    log="$dir/${platforms//\//_}-$run.log"
    start=$(date +%s%N)
    PIPELINE_PLATFORMS=$platforms npm run -s pipeline -- "${skip[@]}" --dockerfile "$dir/Dockerfile" \
      --repository "$repo" --report-dir "$dir/report" >"$log" 2>&1
    total=$(( ($(date +%s%N) - start) / 1000000 ))
    echo "$platforms $run: $(stages "$log"), whole run ${total} ms"
  done
done
ref=$(node -p "require('./$dir/report/report.json').published[0].split('@')[0]")
auth="${MCP_PIPELINE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/mcp-pipeline}/state/registry-auth.json"
echo "sizes of $ref (compressed: the layers a pull downloads; uncompressed: docker image inspect):"
REF="$ref" AUTH="$auth" node --input-type=module -e '
import { readFileSync } from "node:fs";
const { username, password } = JSON.parse(readFileSync(process.env.AUTH, "utf8"));
const [, host, repo, tag] = /^([^/]+)\/(.+):([^:]+)$/.exec(process.env.REF);
const get = (ref) => fetch(`http://${host}/v2/${repo}/manifests/${ref}`, { headers: {
  Authorization: "Basic " + Buffer.from(`${username}:${password}`).toString("base64"),
  Accept: "application/vnd.oci.image.index.v1+json, application/vnd.oci.image.manifest.v1+json" } }).then((r) => r.json());
for (const m of (await get(tag)).manifests) {
  const layers = (await get(m.digest)).layers;
  console.log(`  ${m.platform.os}/${m.platform.architecture}: ${layers.reduce((s, l) => s + l.size, 0)} bytes compressed`);
}'
export DOCKER_CONFIG="$dir/docker-config"
mkdir -p "$DOCKER_CONFIG"
node -p "require('$auth').password" |
  docker login 172.17.0.1:5001 -u "$(node -p "require('$auth').username")" --password-stdin >/dev/null
for platform in linux/amd64 linux/arm64; do
  docker pull -q --platform "$platform" "$ref" >/dev/null
  echo "  $platform: $(docker image inspect --format '{{.Size}}' "$ref") bytes uncompressed"
  docker image rm -f "$ref" >/dev/null
done
rm -rf "$DOCKER_CONFIG"
