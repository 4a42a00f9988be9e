#!/bin/sh
# Starts Node-RED with the flow named by $VIGIE_FLOW (street-demo, gateway, control-room, or
# a path to a flow file). The street demo also starts its virtual cameras and MQTT broker.
# Arguments are passed on to `vigie start` (e.g. `docker run … vigie --reset-flow`).
# Node-RED, Vigie and Dashboard 2.0 run from $NODE_RED_HOME (install.sh, the image's layers);
# the user directory $VIGIE_USER_DIR (the /data volume) holds state only.
set -eu
: "${NODE_RED_HOME:?}" "${VIGIE_USER_DIR:?}"
HERE="$(cd "$(dirname "$0")" && pwd)"
VIGIE_JS="$NODE_RED_HOME/node_modules/node-red-dashboard-2-vigie/dist/bin/vigie.js"
[ -f "$VIGIE_JS" ] || { echo "start.sh: Vigie is not installed in $NODE_RED_HOME (no $VIGIE_JS): run install.sh" >&2; exit 1; }

mkdir -p "$VIGIE_USER_DIR" 2>/dev/null || true
if [ ! -w "$VIGIE_USER_DIR" ]; then
  # A filesystem mounted read-only (an SD card the kernel remounted after write errors, or a
  # volume mounted :ro) is not mended by a chown: say which it is.
  why=$(node -e 'try { require("fs").accessSync(process.argv[1], 2) } catch (e) { process.stdout.write(String(e.code)) }' "$VIGIE_USER_DIR" 2>/dev/null || true)
  if [ "$why" = "EROFS" ]; then
    echo "start.sh: the data directory $VIGIE_USER_DIR is on a filesystem mounted read-only." >&2
    echo "  A volume mounted :ro, or a card the kernel remounted read-only after write errors (see the host's kernel log and docs/install.md, \"A full disk\"): a chown will not help." >&2
  else
    echo "start.sh: the data directory $VIGIE_USER_DIR is not writable by uid $(id -u), gid $(id -g)." >&2
    echo "  A bind mount: on the host, sudo chown -R $(id -u):$(id -g) DIR (see docs/install.md, \"The data directory\")." >&2
  fi
  exit 1
fi

# A volume made by the first image holds its own Vigie, which Node-RED would load instead.
node "$HERE/old-packages.js" "$VIGIE_USER_DIR" "$NODE_RED_HOME"

exec node "$VIGIE_JS" start \
  --flow "${VIGIE_FLOW:-street-demo}" \
  --user-dir "$VIGIE_USER_DIR" \
  --node-red "$NODE_RED_HOME" \
  --host "${VIGIE_HOST:-0.0.0.0}" \
  --port "${VIGIE_PORT:-1880}" "$@"
