#!/bin/sh
# Starts the logferry Lambda extension (layer file /opt/extensions/logferry; docs/onboard.md).
# Lambda runs every executable in /opt/extensions at init; the file name is the extension's name.
# Inside Lambda the telemetry listener must be on sandbox.localdomain (the host AWS documents for
# Telemetry API destinations); set LOGFERRY_EXTENSION_HOST to override (tests use 127.0.0.1).
# Needs a `node` (the nodejs20.x/22.x runtimes have /var/lang/bin/node); LOGFERRY_EXTENSION_NODE names another.
set -e
here=$(cd "$(dirname "$0")/.." && pwd)
node_bin=${LOGFERRY_EXTENSION_NODE:-$(command -v node || echo /var/lang/bin/node)}
LOGFERRY_EXTENSION_HOST=${LOGFERRY_EXTENSION_HOST:-sandbox.localdomain}
LOGFERRY_EXTENSION_NAME=${LOGFERRY_EXTENSION_NAME:-$(basename "$0")}
export LOGFERRY_EXTENSION_HOST LOGFERRY_EXTENSION_NAME
exec "$node_bin" "$here/logferry-extension/index.mjs"
