#!/bin/sh
# Installs Node-RED into $NODE_RED_HOME and the Vigie tarball ($1) into the Node-RED user
# directory $VIGIE_USER_DIR the way the palette manager does (npm install in the user dir),
# with Dashboard 2.0 beside it. Used by the Dockerfile; the tests run it outside a container.
set -eu
TARBALL="$1"
: "${NODE_RED_HOME:?}" "${VIGIE_USER_DIR:?}"
NODE_RED_VERSION="${NODE_RED_VERSION:-4.1.15}"
DASHBOARD_VERSION="${DASHBOARD_VERSION:-1.31.0}"
export ONNXRUNTIME_NODE_INSTALL=skip
NPM_FLAGS="--no-audit --no-fund --omit=dev ${VIGIE_NPM_FLAGS:-}"

mkdir -p "$NODE_RED_HOME" "$VIGIE_USER_DIR"
cd "$NODE_RED_HOME"
[ -f package.json ] || echo '{"name":"vigie-node-red","private":true}' > package.json
npm install $NPM_FLAGS "node-red@$NODE_RED_VERSION"

cd "$VIGIE_USER_DIR"
[ -f package.json ] || echo '{"name":"node-red-project","description":"Vigie","private":true}' > package.json
npm install $NPM_FLAGS "$TARBALL" "@flowfuse/node-red-dashboard@$DASHBOARD_VERSION"
