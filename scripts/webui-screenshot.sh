#!/usr/bin/env bash
# Takes docs/img/webui-failed-runs.png: the Temporal Web UI's run list filtered
# by ferry's search attributes (FerryStream = "demo.customers" and FerryStatus =
# "failed"), in a real headless browser, after real runs.
#
#   bash scripts/webui-screenshot.sh
#
# Needs: a local Postgres (scripts/ensure-postgres.sh), the Temporal CLI
# (scripts/ensure-temporal.sh finds or installs it) and a headless chromium:
#   apt-get install chromium-headless-shell   (Debian 12; or CHROMIUM=/path/to/chrome)
# Starts its own dev server with the Web UI on FERRY_SCREENSHOT_PORT (default
# 7319; UI on FERRY_SCREENSHOT_UI_PORT, default 8319) and stops it afterwards.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
port="${FERRY_SCREENSHOT_PORT:-7319}"
ui_port="${FERRY_SCREENSHOT_UI_PORT:-8319}"
command -v "${CHROMIUM:-chromium-headless-shell}" >/dev/null || { echo "webui-screenshot: no headless chromium: apt-get install chromium-headless-shell, or set CHROMIUM" >&2; exit 1; }
bash scripts/ensure-postgres.sh >&2
bash scripts/ensure-temporal.sh --start --port "$port" --ui-port "$ui_port" >/dev/null
trap 'bash scripts/ensure-temporal.sh --stop --port "$port" >&2' EXIT
TEMPORAL_ADDRESS="127.0.0.1:$port" FERRY_TASK_QUEUE="ferry-webui-screenshot" FERRY_SCREENSHOT_UI_PORT="$ui_port" \
  node_modules/.bin/tsx scripts/webui-screenshot.ts
