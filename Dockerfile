# NeoLight Dashboard API: a Node 24 LTS image that runs only the compiled service.
#   docker build -t neolight-dashboard .
#   docker run -p 8100:8100 -v neolight-state:/app/state --stop-timeout 20 neolight-dashboard
# Three stages: `build` compiles TypeScript with every dependency; `deps` installs the production
# dependencies alone; `runtime` gets dist/ and those, and runs as the unprivileged `node` user.

ARG NODE_IMAGE=node:24-bookworm-slim

FROM ${NODE_IMAGE} AS build
WORKDIR /app
# swagger-ui-dist pulls in @scarf/scarf, whose install script reports usage; package.json's
# allowScripts already refuses it, and this covers an npm that does not know allowScripts.
ENV SCARF_ANALYTICS=false
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY nest-cli.json tsconfig.json tsconfig.build.json ./
COPY scripts ./scripts
COPY src ./src
RUN npm run build

FROM ${NODE_IMAGE} AS deps
WORKDIR /app
COPY package.json package-lock.json ./
# Production dependencies only: no test tools, not the `node` devDependency (the image's own node
# runs the service), and not TypeScript, which @nestjs/swagger lists as an optional peer (24 MB the
# service never loads). No production dependency needs an install script.
RUN npm ci --omit=dev --omit=optional --ignore-scripts --no-audit --no-fund && npm cache clean --force

FROM ${NODE_IMAGE} AS runtime
# Port: 8100 unless NEOLIGHT_DASHBOARD_PORT (or PORT) says otherwise; the health check follows it.
# NODE_OPTIONS: the V8 flag `npm run start:prod` runs with (a 16 MB young generation: a 2 MB one spent
# 28% of a POST's CPU in garbage collection and promoted more to the old generation; README, "Benchmarks").
ENV NODE_ENV=production \
    NODE_OPTIONS=--max-semi-space-size=16 \
    HOST=0.0.0.0 \
    NEOLIGHT_ROOT=/app
WORKDIR /app
# Code and dependencies stay root-owned (read-only to the service); only state/ and runtime/ are its own.
COPY --from=deps /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
# The service reads its version from package.json at the root (src/config/app.config.ts).
COPY package.json ./
RUN mkdir -p state runtime && chown node:node state runtime
USER node
# Our documents (meta_metrics.json, atlas_state.json) and the agents' state files live here.
VOLUME ["/app/state"]
EXPOSE 8100
# Liveness, as Kubernetes probes it; slim images have no curl, so node's fetch does the request.
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:' + (process.env.NEOLIGHT_DASHBOARD_PORT || process.env.PORT || 8100) + '/health/live', { signal: AbortSignal.timeout(4000) }).then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
# Exec form: node is PID 1 and receives SIGTERM itself (it drains the ingest queue, then exits).
CMD ["node", "dist/main.js"]
