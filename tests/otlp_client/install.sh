#!/usr/bin/env bash
# Installs the pinned OpenTelemetry JS SDK packages for the OTLP test client
# (tests/otlp_client/package-lock.json) into tests/otlp_client/node_modules.
# Idempotent: runs `npm ci` only when node_modules is missing or older than
# package-lock.json. Needs node (>= 18.19 or >= 20.6, the SDK's engines) and
# npm, and the npm registry.
set -euo pipefail

here=${BASH_SOURCE[0]}
if [[ $here == */* ]]; then here=${here%/*}; else here=.; fi
cd "$here"

missing=()
command -v node >/dev/null 2>&1 || missing+=(node)
command -v npm >/dev/null 2>&1 || missing+=(npm)
if ((${#missing[@]})); then
  echo "tests/otlp_client/install.sh: ${missing[*]} not found." >&2
  echo "  The OTLP client tests need Node.js and npm; on Debian:" >&2
  echo "    apt-get install -y nodejs npm" >&2
  exit 1
fi

if ! node -e '
  const [maj, min] = process.versions.node.split(".").map(Number);
  process.exit((maj === 18 && min >= 19) || (maj === 20 && min >= 6) || maj > 20 ? 0 : 1);'; then
  echo "tests/otlp_client/install.sh: node $(node --version) is too old;" \
       "the OpenTelemetry JS SDK needs ^18.19.0 or >=20.6.0" >&2
  exit 1
fi

if [[ ! -d node_modules || node_modules -ot package-lock.json ]]; then
  npm ci --no-audit --no-fund
  touch node_modules # npm ci may keep an old directory mtime; mark the tree fresh
fi
