#!/bin/sh
# Waits until the compose Temporal server reports SERVING, then makes sure the
# namespace ferry uses exists. Runs in the temporalio/admin-tools image.
set -eu

NAMESPACE="${DEFAULT_NAMESPACE:-default}"
RETENTION="${DEFAULT_NAMESPACE_RETENTION:-72h}"
ADDRESS="${TEMPORAL_ADDRESS:-temporal:7233}"

echo "waiting for the Temporal server at $ADDRESS"
i=0
until temporal operator cluster health --address "$ADDRESS" 2>/dev/null | grep -q SERVING; do
  i=$((i + 1))
  if [ "$i" -ge 120 ]; then echo "Temporal server not SERVING after 120 s" >&2; exit 1; fi
  sleep 1
done

if temporal operator namespace describe --address "$ADDRESS" --namespace "$NAMESPACE" >/dev/null 2>&1; then
  echo "namespace $NAMESPACE exists"
else
  echo "creating namespace $NAMESPACE (retention $RETENTION)"
  temporal operator namespace create --address "$ADDRESS" --namespace "$NAMESPACE" --retention "$RETENTION"
fi

# the frontend's namespace cache refreshes every few seconds: wait until the
# namespace is usable so that workers started next do not fail their first polls
i=0
until temporal workflow list --address "$ADDRESS" --namespace "$NAMESPACE" --limit 1 >/dev/null 2>&1; do
  i=$((i + 1))
  if [ "$i" -ge 30 ]; then echo "namespace $NAMESPACE not usable after 30 s" >&2; exit 1; fi
  sleep 1
done
echo "namespace $NAMESPACE ready"
