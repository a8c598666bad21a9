# ferry worker image: `docker build -t ferry-worker .`
# Configuration comes from the environment (see docker-compose.yml):
#   DATABASE_URL, TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE, FERRY_TASK_QUEUE, FERRY_CONFIG,
#   FERRY_METRICS_PORT, FERRY_SDK_METRICS_PORT, FERRY_METRICS_HOST
FROM node:20-bookworm-slim

ENV NPM_CONFIG_UPDATE_NOTIFIER=false \
    NPM_CONFIG_FUND=false \
    NPM_CONFIG_AUDIT=false

WORKDIR /app

# dependencies first, so that a source change does not reinstall them;
# all of them (tsx and typescript are devDependencies and run the worker).
# `npm install` is only a fallback for a lockfile that `npm ci` rejects as out of sync.
COPY package.json package-lock.json ./
RUN (npm ci || { echo "npm ci failed: falling back to npm install" >&2; npm install; }) \
    && npm cache clean --force

COPY . .
RUN mkdir -p /app/.ferry && chown -R node:node /app/.ferry

USER node

# Prometheus metrics: ferry's on 9464 (FERRY_METRICS_PORT), the Temporal SDK's on 9465
# (FERRY_SDK_METRICS_PORT); 0 or off disables either. Nothing else listens.
EXPOSE 9464 9465
CMD ["npx", "tsx", "src/worker.ts"]
