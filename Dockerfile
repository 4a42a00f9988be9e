# Vigie on Node-RED 4.1, for street gateways and the control room (linux/amd64, linux/arm64).
# Debian base: onnxruntime-node needs glibc (no musl build), so not the Alpine Node-RED image.
#   docker build -t vigie .
#   docker run -p 127.0.0.1:1880:1880 -e VIGIE_FLOW=street-demo vigie
# Node-RED, Vigie and Dashboard 2.0 live in the image (/opt/node-red); the /data volume holds
# state only (flows, credentials, settings, audit log, alerts, outboxes). See docs/install.md.
ARG NODE_VERSION=20

# --- build: compile the package and pack it, as it would be published -----------------------
# Its output is plain JavaScript: it runs on the build machine's platform, never under QEMU.
FROM --platform=$BUILDPLATFORM node:${NODE_VERSION}-bookworm-slim AS build
ENV ONNXRUNTIME_NODE_INSTALL=skip
WORKDIR /src
COPY package.json package-lock.json .npmrc ./
RUN npm ci --no-audit --no-fund
COPY . .
RUN npm run build \
 && mkdir -p /pkg \
 && npm pack --ignore-scripts --pack-destination /pkg \
 && mv /pkg/node-red-dashboard-2-vigie-*.tgz /pkg/vigie.tgz

# --- runtime -------------------------------------------------------------------------------
FROM node:${NODE_VERSION}-bookworm-slim
ARG NODE_RED_VERSION=4.1.15
ENV ONNXRUNTIME_NODE_INSTALL=skip \
    NODE_ENV=production \
    NODE_RED_VERSION=${NODE_RED_VERSION} \
    NODE_RED_HOME=/opt/node-red \
    VIGIE_USER_DIR=/data \
    VIGIE_FLOW=street-demo \
    VIGIE_HOST=0.0.0.0 \
    VIGIE_PORT=1880

# ffmpeg: camera microphones over RTSP and the video relay; alsa-utils: arecord for USB arrays.
RUN apt-get update \
 && apt-get install -y --no-install-recommends ffmpeg alsa-utils tini ca-certificates \
 && rm -rf /var/lib/apt/lists/*

# A non-root user that may open ALSA capture devices (group audio), with a fixed UID and GID
# (999, as the first image's system user had) so that a bind-mounted /data can be given to it.
RUN groupadd --system --gid 999 vigie \
 && useradd --system --uid 999 --gid vigie --groups audio --home-dir /home/vigie --create-home --shell /usr/sbin/nologin vigie

COPY docker/install.sh docker/start.sh docker/old-packages.js docker/healthcheck.js /opt/vigie/
COPY --from=build /pkg/vigie.tgz /opt/vigie/vigie.tgz
# npm's cache goes to a directory removed in the same step, so that it never reaches a layer.
RUN export npm_config_cache=/tmp/npm-cache \
 && VIGIE_RUN_AS=vigie:vigie /opt/vigie/install.sh /opt/vigie/vigie.tgz \
 && rm -rf /tmp/npm-cache /root/.npm \
 && mkdir -p /data \
 && chown vigie:vigie /data

USER vigie
WORKDIR /data
VOLUME ["/data"]
EXPOSE 1880
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 CMD ["node", "/opt/vigie/healthcheck.js"]
ENTRYPOINT ["/usr/bin/tini", "--", "/opt/vigie/start.sh"]
