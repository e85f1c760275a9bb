# syntax=docker/dockerfile:1
# pastewatch capture image: multi-stage (build tools and dev dependencies never reach the runtime image),
# slim Node 20 base, non-root user, file capabilities only on the interpreter copy that captures, read-only
# root file system friendly (nothing is written outside volumes), and a HEALTHCHECK on /healthz.
#
#   docker build -t pastewatch .
#   docker run --rm --network host --pid host --cap-drop ALL --cap-add NET_RAW --cap-add NET_ADMIN \
#     --cap-add SYS_PTRACE --read-only pastewatch
ARG NODE_IMAGE=node:20-bookworm-slim

FROM ${NODE_IMAGE} AS build
# node-gyp builds the pcap binding against libpcap.
RUN apt-get update \
 && apt-get install -y --no-install-recommends python3 make g++ libpcap-dev \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY package.json package-lock.json ./
# Install without lifecycle scripts first (prepare would build before the sources are here), then build the
# one native module we allow.
RUN npm ci --no-audit --no-fund --ignore-scripts && npm rebuild pcap
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
RUN npm run build && npm prune --omit=dev --no-audit --no-fund

FROM ${NODE_IMAGE} AS runtime
# libpcap at run time; setcap (libcap2-bin) only long enough to mark the capture interpreter, then removed.
# CAP_NET_RAW opens the packet socket, CAP_NET_ADMIN sets promiscuous mode and the ring size, CAP_SYS_PTRACE
# reads other users' /proc/PID/fd and exe for process attribution. Only the pastewatch-node copy of the
# interpreter gets them: `node` itself (health check, validate) runs without any capability. The container
# must allow these three (docker --cap-add, Kubernetes securityContext.capabilities.add) or exec fails.
RUN apt-get update \
 && apt-get install -y --no-install-recommends libpcap0.8 libcap2-bin \
 && cp /usr/local/bin/node /usr/local/bin/pastewatch-node \
 && setcap cap_net_raw,cap_net_admin,cap_sys_ptrace+ep /usr/local/bin/pastewatch-node \
 && apt-get purge -y libcap2-bin && apt-get autoremove -y \
 && rm -rf /var/lib/apt/lists/* /usr/local/lib/node_modules/npm /usr/local/bin/npm /usr/local/bin/npx \
 && groupadd --system --gid 10001 pastewatch \
 && useradd --system --uid 10001 --gid 10001 --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin pastewatch
WORKDIR /app
COPY --from=build --chown=root:root /app/node_modules ./node_modules
COPY --from=build --chown=root:root /app/dist/src ./dist/src
COPY --chown=root:root package.json otel-config.yaml ./
COPY --chown=root:root bin ./bin
COPY --chown=root:root pipelines ./pipelines
COPY --chown=root:root proto ./proto
ENV NODE_ENV=production \
    PASTEWATCH_CONFIG=/app/pipelines/sidecar.yaml \
    HOME=/tmp
USER 10001:10001
EXPOSE 13133
# The health_check extension of pipelines/sidecar.yaml listens on 13133.
HEALTHCHECK --interval=30s --timeout=3s --start-period=10s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:13133/healthz').then((r)=>process.exit(r.ok?0:1),()=>process.exit(1))"]
# Node handles SIGTERM itself (pastewatch flushes, then exits), so no init shim is needed; in a pod with
# shareProcessNamespace the pause container is PID 1 anyway.
ENTRYPOINT ["/usr/local/bin/pastewatch-node", "/app/bin/pastewatch.js"]
CMD ["run", "--config", "/app/pipelines/sidecar.yaml"]
