#!/usr/bin/env bash
# Prints the URL of a PostgreSQL server for the store's tests, starting one if none runs.
#
# Uses $SRMA_TEST_POSTGRES_URL when it is set.  Otherwise installs Debian's
# postgresql package when no server binaries are present (with $SUDO when not
# root; apt-get waits up to 10 minutes for the package lock), creates a
# throwaway cluster under /tmp and starts it on loopback only (127.0.0.1, port
# $SRMA_TEST_POSTGRES_PORT or 55432), trust auth for the local user "srma".
# When it starts one and $SRMA_TEST_POSTGRES_STARTED names a file, the
# cluster's folder is written there, for `postgres.sh stop FOLDER` (see
# .ci/with-postgres.sh, which `make test` uses).  A server already running on
# the port is used and left alone.  Progress goes to standard error; the URL
# to standard output.
#
#   postgres.sh stop FOLDER   stops the throwaway server of FOLDER and removes it.
set -euo pipefail
find_bin() { { ls -d /usr/lib/postgresql/*/bin 2>/dev/null || true; } | sort -V | tail -n 1; }
run_as=()
if [ "$(id -u)" = 0 ]; then  # postgres refuses to run as root
    run_as=(runuser -u postgres --)
fi
if [ "${1:-}" = stop ]; then
    data="${2:?usage: postgres.sh stop FOLDER}"
    case "$data" in /tmp/srma-test-postgres-*) ;; *) echo "not a throwaway cluster: $data" >&2; exit 2 ;; esac
    if [ -f "$data/postmaster.pid" ]; then
        (cd / && "${run_as[@]}" "$(find_bin)/pg_ctl" -D "$data" -m fast -w stop >&2)
    fi
    rm -rf "$data"
    exit 0
fi
if [ -n "${SRMA_TEST_POSTGRES_URL:-}" ]; then
    echo "$SRMA_TEST_POSTGRES_URL"
    exit 0
fi
port="${SRMA_TEST_POSTGRES_PORT:-55432}"
url="postgresql://srma@127.0.0.1:${port}/postgres"
bin="$(find_bin)"
if [ -z "$bin" ]; then
    echo "installing Debian's postgresql package" >&2
    ${SUDO:-} apt-get -o DPkg::Lock::Timeout=600 update -qq >&2
    DEBIAN_FRONTEND=noninteractive ${SUDO:-} apt-get -o DPkg::Lock::Timeout=600 \
        install -y -qq postgresql >&2
    bin="$(find_bin)"
fi
if "$bin/pg_isready" -q -h 127.0.0.1 -p "$port"; then
    echo "$url"
    exit 0
fi
data="/tmp/srma-test-postgres-${port}"
if [ "$(id -u)" = 0 ]; then
    id postgres >/dev/null 2>&1 || useradd --system --no-create-home postgres
fi
cd /  # the server's user may not be allowed into the caller's folder
rm -rf "$data"
mkdir -p "$data"
[ "$(id -u)" = 0 ] && chown postgres "$data"
"${run_as[@]}" "$bin/initdb" -D "$data" -U srma --auth=trust -E UTF8 >/dev/null
"${run_as[@]}" "$bin/pg_ctl" -D "$data" -l "$data/server.log" -w \
    -o "-c listen_addresses=127.0.0.1 -p $port -k $data" start >&2
if [ -n "${SRMA_TEST_POSTGRES_STARTED:-}" ]; then
    echo "$data" >"$SRMA_TEST_POSTGRES_STARTED"
fi
echo "$url"
