#!/usr/bin/env bash
# Prints the URL of a PostgreSQL server for the store's tests, starting one if none runs.
#
# Uses $SRMA_TEST_POSTGRES_URL when it is set.  Otherwise installs Debian's
# postgresql package when no server binaries are present (with $SUDO when not
# root), creates a throwaway cluster under /tmp and starts it on loopback
# only (127.0.0.1, port $SRMA_TEST_POSTGRES_PORT or 55432), trust auth for the
# local user "srma".  Progress goes to standard error; the URL to standard output.
set -euo pipefail
if [ -n "${SRMA_TEST_POSTGRES_URL:-}" ]; then
    echo "$SRMA_TEST_POSTGRES_URL"
    exit 0
fi
port="${SRMA_TEST_POSTGRES_PORT:-55432}"
url="postgresql://srma@127.0.0.1:${port}/postgres"
find_bin() { { ls -d /usr/lib/postgresql/*/bin 2>/dev/null || true; } | sort -V | tail -n 1; }
bin="$(find_bin)"
if [ -z "$bin" ]; then
    echo "installing Debian's postgresql package" >&2
    ${SUDO:-} apt-get update -qq >&2
    DEBIAN_FRONTEND=noninteractive ${SUDO:-} apt-get install -y -qq postgresql >&2
    bin="$(find_bin)"
fi
if "$bin/pg_isready" -q -h 127.0.0.1 -p "$port"; then
    echo "$url"
    exit 0
fi
data="/tmp/srma-test-postgres-${port}"
run_as=()
if [ "$(id -u)" = 0 ]; then  # postgres refuses to run as root
    id postgres >/dev/null 2>&1 || useradd --system --no-create-home postgres
    run_as=(runuser -u postgres --)
fi
cd /  # the server's user may not be allowed into the caller's folder
rm -rf "$data"
mkdir -p "$data"
[ "$(id -u)" = 0 ] && chown postgres "$data"
"${run_as[@]}" "$bin/initdb" -D "$data" -U srma --auth=trust -E UTF8 >/dev/null
"${run_as[@]}" "$bin/pg_ctl" -D "$data" -l "$data/server.log" -w \
    -o "-c listen_addresses=127.0.0.1 -p $port -k $data" start >&2
echo "$url"
