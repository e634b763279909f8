#!/bin/sh
# Entrypoint of the one platform image: SERVICE picks which service this container runs.
# Accepts "catalog" or "catalog-service"; extra arguments are passed to node.
set -eu

name="${SERVICE:-}"
name="${name%-service}"
case "$name" in
  order | inventory | payment | auth | catalog | notification) ;;
  "")
    echo "ecom-entrypoint: SERVICE is not set; use one of: order inventory payment auth catalog notification" >&2
    exit 64
    ;;
  *)
    echo "ecom-entrypoint: unknown SERVICE '${SERVICE}'; use one of: order inventory payment auth catalog notification" >&2
    exit 64
    ;;
esac

entry="/app/services/${name}/dist/main.js"
if [ ! -f "$entry" ]; then
  echo "ecom-entrypoint: $entry is missing from the image" >&2
  exit 70
fi

# exec: node becomes PID 1 and gets SIGTERM directly (the kernel's graceful shutdown).
# --import loads the OpenTelemetry bootstrap before any application module (ESM needs it first;
# packages/platform/src/telemetry/README.md). OTEL_SDK_DISABLED=true turns tracing off.
exec node --enable-source-maps --import /app/packages/platform/telemetry/register.mjs "$@" "$entry"
