# ferry worker image: `docker build -t ferry-worker .`
# Configuration comes from the environment (see docker-compose.yml):
#   DATABASE_URL, TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE, FERRY_TASK_QUEUE, FERRY_CONFIG
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

# the worker serves nothing over HTTP; it only connects out to Temporal and Postgres
CMD ["npx", "tsx", "src/worker.ts"]
