#!/bin/sh
# Installs Node-RED, the Vigie tarball ($1) and Dashboard 2.0 together into $NODE_RED_HOME
# (the image's /opt/node-red, part of the image's layers). Node-RED loads node packages from
# the node_modules directories above its own core nodes as well as from its user directory, so
# the user directory (the /data volume) keeps state only and a new image brings new packages.
# Then removes onnxruntime-node's native builds for other systems: only this machine's
# (platform/arch of the node that runs this script) is kept.
# VIGIE_RUN_AS (user[:group], optional): the user Node-RED runs as (see the end).
# Used by the Dockerfile; the tests run it outside a container.
set -eu
TARBALL="$1"
: "${NODE_RED_HOME:?}"
NODE_RED_VERSION="${NODE_RED_VERSION:-4.1.15}"
DASHBOARD_VERSION="${DASHBOARD_VERSION:-1.31.0}"
export ONNXRUNTIME_NODE_INSTALL=skip
NPM_FLAGS="--no-audit --no-fund --omit=dev ${VIGIE_NPM_FLAGS:-}"

case "$TARBALL" in /*) ;; *) TARBALL="$(pwd)/$TARBALL" ;; esac
[ -f "$TARBALL" ] || { echo "install.sh: expected the path of the packed Vigie tarball, got \"$1\"" >&2; exit 1; }

mkdir -p "$NODE_RED_HOME"
cd "$NODE_RED_HOME"
[ -f package.json ] || echo '{"name":"vigie-node-red","private":true}' > package.json
npm install $NPM_FLAGS "node-red@$NODE_RED_VERSION" "$TARBALL" "@flowfuse/node-red-dashboard@$DASHBOARD_VERSION"

# onnxruntime-node ships bin/napi-v*/<platform>/<arch>/ for darwin, win32 and both Linux
# architectures (~290 MB); it loads only bin/napi-v*/<process.platform>/<process.arch>/.
KEEP="$(node -p 'process.platform + "/" + process.arch')"
find "$NODE_RED_HOME/node_modules" -type d -path '*/onnxruntime-node/bin' -prune | while read -r ORT_BIN; do
  for NAPI in "$ORT_BIN"/napi-v*; do
    [ -f "$NAPI/$KEEP/onnxruntime_binding.node" ] || {
      echo "install.sh: onnxruntime-node has no build for $KEEP in $NAPI" >&2
      exit 1
    }
    for OS_DIR in "$NAPI"/*; do
      for ARCH_DIR in "$OS_DIR"/*; do
        [ "${ARCH_DIR#"$NAPI"/}" = "$KEEP" ] || rm -rf "$ARCH_DIR"
      done
      rmdir "$OS_DIR" 2>/dev/null || true
    done
  done
done

# `vigie start` links this Vigie into the user directory, where Dashboard 2.0 looks for widgets.
# A palette install runs npm there, which re-links the package's command and chmods its file:
# npm stops with EPERM unless the user Node-RED runs as owns that one file.
if [ -n "${VIGIE_RUN_AS:-}" ]; then
  chown "$VIGIE_RUN_AS" "$NODE_RED_HOME/node_modules/node-red-dashboard-2-vigie/dist/bin/vigie.js"
fi
