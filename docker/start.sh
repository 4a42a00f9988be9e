#!/bin/sh
# Starts Node-RED with the flow named by $VIGIE_FLOW (street-demo, gateway, control-room, or
# a path to a flow file). The street demo also starts its virtual cameras and MQTT broker.
set -eu
: "${NODE_RED_HOME:?}" "${VIGIE_USER_DIR:?}"
exec node "$VIGIE_USER_DIR/node_modules/node-red-dashboard-2-vigie/dist/bin/vigie.js" start \
  --flow "${VIGIE_FLOW:-street-demo}" \
  --user-dir "$VIGIE_USER_DIR" \
  --node-red "$NODE_RED_HOME" \
  --host "${VIGIE_HOST:-0.0.0.0}" \
  --port "${VIGIE_PORT:-1880}"
