# syntax=docker/dockerfile:1
# Gatehouse's container image: docs/deploy.md#container-image says what was verified and how.
#
#   docker build -t gatehouse .                      # node:20-bookworm(-slim) from a registry
#   podman build --build-arg BUILD_BASE=localhost/gh-base --build-arg BASE=localhost/gh-base -t gatehouse .
#
# BUILD_BASE must have Node.js 20.19+ and npm, plus python3, make and g++ in case better-sqlite3 has to be compiled;
# BASE (the runtime) needs Node.js only, of the same libc as BUILD_BASE (the native modules are copied across).
ARG BUILD_BASE=node:20-bookworm
ARG BASE=node:20-bookworm-slim

# ---- build: every dependency, the TypeScript compiled, then the dev dependencies pruned ----
FROM ${BUILD_BASE} AS build
WORKDIR /app
ENV npm_config_update_notifier=false npm_config_fund=false npm_config_audit=false
# The manifests first, so that the install layer is cached until they change (the workspace's too: npm ci needs it).
COPY package.json package-lock.json ./
COPY packages/resource-server/package.json packages/resource-server/
# --ignore-scripts: the `prepare` build needs the sources, copied below; better-sqlite3's own install is run explicitly.
RUN npm ci --ignore-scripts && npm rebuild better-sqlite3
COPY . .
RUN npx tsc -p tsconfig.json \
 && npm prune --omit=dev --ignore-scripts \
 && rm -rf dist/test dist/.tsbuildinfo dist/.build-stamp \
 && find dist -name '*.map' -delete

# ---- runtime: Node.js, the production dependencies, the compiled server; no compiler, no TypeScript ----
FROM ${BASE}
ENV NODE_ENV=production \
    HOST=0.0.0.0 \
    PORT=3000 \
    DATABASE_URL=sqlite:/data/gatehouse.db
WORKDIR /app
# A system user of its own (uid 10001, no shell, no home); it owns only the data folder.
RUN groupadd --system --gid 10001 gatehouse \
 && useradd --system --uid 10001 --gid 10001 --home-dir /nonexistent --no-create-home --shell /usr/sbin/nologin gatehouse \
 && mkdir -p /data && chown 10001:10001 /data && chmod 0750 /data
# The application files stay root's: the server cannot rewrite its own code.
COPY --from=build /app/package.json /app/package-lock.json ./
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/packages ./packages
COPY --from=build /app/dist ./dist
COPY --from=build /app/bin ./bin
COPY --from=build /app/views ./views
COPY --from=build /app/assets ./assets
COPY --from=build /app/openapi.yaml ./openapi.yaml
COPY --from=build /app/scripts/build-if-changed.mjs ./scripts/build-if-changed.mjs
# The commit it was built from (`--build-arg REVISION=$(git rev-parse HEAD)`): test/deploy/image.test.ts runs only an
# image of the commit under test.
ARG REVISION=unknown
LABEL org.opencontainers.image.revision=$REVISION org.opencontainers.image.title="Gatehouse"
# The SQLite database (the default DATABASE_URL) lives here; with PostgreSQL nothing is written to it.
VOLUME ["/data"]
USER 10001:10001
EXPOSE 3000
# The server drains on SIGTERM as it does outside a container (server.ts: stops accepting, lets open connections
# send their last request for up to 3 s, exits 0; 15 s at most). Give `docker stop` / Kubernetes 20 s or more.
STOPSIGNAL SIGTERM
HEALTHCHECK --interval=10s --timeout=3s --start-period=30s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:' + (process.env.PORT || 3000) + '/health').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
# Exec form, no shell: node is PID 1 and gets the SIGTERM itself. Every other command: `docker run … gatehouse users list`.
ENTRYPOINT ["node", "bin/gatehouse.js"]
CMD ["serve"]
