#!/usr/bin/env bash
# The whole test suite under Node-RED 5 on Node.js 22 — what `"node-red": {"version": ">=4.1.0"}` promises —
# without touching this checkout: Node.js comes from the npm registry (node-<platform>-<arch>, headers
# included, so better-sqlite3 builds against it), the committed HEAD is cloned into a temporary directory,
# and Node-RED 5 replaces the 4.1 dev dependency there. Arguments go to `npm test`.
set -euo pipefail
node_version=${NODE_VERSION:-22}
node_red_version=${NODE_RED_VERSION:-5}
root=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

pkg="node-$(node -p 'process.platform')-$(node -p 'process.arch')"
(cd "$work" && npm init -y >/dev/null && npm install --no-audit --no-fund --silent "$pkg@$node_version")
nodedir="$work/node_modules/$pkg"
git clone -q "$root" "$work/repo"
cd "$work/repo"
export PATH="$nodedir/bin:$PATH" npm_config_nodedir="$nodedir"
npm ci --no-audit --no-fund --silent
npm install --no-audit --no-fund --silent --save-dev "node-red@$node_red_version"
echo "Node.js $(node -v), Node-RED $(node -p 'require("node-red/package.json").version'), package at $(git -C "$root" rev-parse --short HEAD)"
npm test -- "$@"
