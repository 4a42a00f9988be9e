# Vigie on Node-RED 4.1, for street gateways and the control room (linux/amd64, linux/arm64).
# Debian base: onnxruntime-node needs glibc (no musl build), so not the Alpine Node-RED image.
#   docker build -t vigie .
#   docker run -p 1880:1880 -e VIGIE_FLOW=street-demo vigie
ARG NODE_VERSION=20

# --- build: compile the package and pack it, as it would be published -----------------------
FROM node:${NODE_VERSION}-bookworm-slim AS build
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

# A non-root user that may open ALSA capture devices (group audio).
RUN groupadd --system vigie \
 && useradd --system --gid vigie --groups audio --home-dir /home/vigie --create-home vigie

COPY docker/install.sh docker/start.sh docker/healthcheck.js /opt/vigie/
COPY --from=build /pkg/vigie.tgz /opt/vigie/vigie.tgz
# Node-RED, then the package installed into the user directory as the palette manager does.
RUN /opt/vigie/install.sh /opt/vigie/vigie.tgz \
 && chown -R vigie:vigie /data

USER vigie
WORKDIR /data
VOLUME ["/data"]
EXPOSE 1880
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 CMD ["node", "/opt/vigie/healthcheck.js"]
ENTRYPOINT ["/usr/bin/tini", "--", "/opt/vigie/start.sh"]
