#!/usr/bin/env bash
# Installs what a fresh Debian machine lacks (run as root), then the npm dependencies.
set -euo pipefail
cd "$(dirname "$0")/.."

if command -v apt-get >/dev/null 2>&1; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update
  apt-get install -y --no-install-recommends libkrb5-dev ripgrep chromium fonts-liberation
fi

# code-server's @vscode/ripgrep downloads rg from GitHub at install; pre-fill its cache with Debian's rg.
npm_tmp="${TMPDIR:-/tmp}/budget-reasoner-npm"
cache="$npm_tmp/vscode-ripgrep-cache-1.15.11"
mkdir -p "$cache"
staging=$(mktemp -d)
cp "$(command -v rg)" "$staging/rg"
tar -czf "$cache/ripgrep-v13.0.0-10-x86_64-unknown-linux-musl.tar.gz" -C "$staging" rg
rm -rf "$staging"

TMPDIR="$npm_tmp" npm_config_unsafe_perm=true npm_config_yes=true npm ci --no-audit --no-fund
