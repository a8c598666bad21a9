# ferry worker image: `docker build -t ferry-worker .`
# Runs the compiled worker (dist/worker.js) on Node 24 LTS as the non-root user `node`, with
# production dependencies only (no tsx, no TypeScript). Configuration comes from the
# environment (see docker-compose.yml): DATABASE_URL, TEMPORAL_* (address, namespace, TLS,
# API key, profile), FERRY_TASK_QUEUE, FERRY_CONFIG, FERRY_METRICS_PORT,
# FERRY_SDK_METRICS_PORT, FERRY_METRICS_HOST. Your own image: FROM this one, COPY your config
# (importing from 'ferry') into /app and set FERRY_CONFIG.

# ---- build: everything, compiled (also the target of the compose stack's one-shot tools)
FROM node:24-bookworm-slim AS build
ENV NPM_CONFIG_UPDATE_NOTIFIER=false NPM_CONFIG_FUND=false NPM_CONFIG_AUDIT=false
WORKDIR /app
# dependencies first, so that a source change does not reinstall them;
# `npm install` is only a fallback for a lockfile that `npm ci` rejects as out of sync.
COPY package.json package-lock.json ./
RUN (npm ci || { echo "npm ci failed: falling back to npm install" >&2; npm install; }) && npm cache clean --force
COPY . .
RUN npm run build

# ---- runtime: the compiled worker and CLI
FROM node:24-bookworm-slim AS runtime
ENV NODE_ENV=production NPM_CONFIG_UPDATE_NOTIFIER=false NPM_CONFIG_FUND=false NPM_CONFIG_AUDIT=false
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev && npm cache clean --force
COPY --from=build /app/dist ./dist
COPY bin ./bin
# The demo's streams, importing from the package ('ferry', which resolves to dist/ here)
# instead of the repository's sources.
COPY ferry.config.ts ./
RUN sed -i "s#from './src/index.js'#from 'ferry'#" ferry.config.ts \
    && grep -q "from 'ferry'" ferry.config.ts \
    && mkdir -p /app/.ferry && chown node:node /app/.ferry
USER node

# Prometheus metrics: ferry's on 9464 (FERRY_METRICS_PORT), the Temporal SDK's on 9465
# (FERRY_SDK_METRICS_PORT); 0 or off disables either. Nothing else listens. They listen on
# 127.0.0.1 unless FERRY_METRICS_HOST says otherwise (the compose stack sets 0.0.0.0).
EXPOSE 9464 9465
# healthy while the worker serves its metrics and can read the state store
HEALTHCHECK --interval=15s --timeout=5s --start-period=60s --retries=4 \
  CMD ["node", "-e", "fetch(`http://127.0.0.1:${process.env.FERRY_METRICS_PORT || 9464}/metrics`).then(async (r) => process.exit(r.ok && /^ferry_state_store_up 1$/m.test(await r.text()) ? 0 : 1), () => process.exit(1))"]
CMD ["node", "dist/worker.js"]
