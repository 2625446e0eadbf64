#!/usr/bin/env bash
# Runs a command (the tests) with $SRMA_TEST_POSTGRES_URL set by .ci/postgres.sh,
# then stops the throwaway PostgreSQL server that postgres.sh started for it,
# whether the command passed or failed (or was interrupted), and exits with the
# command's status.  A given $SRMA_TEST_POSTGRES_URL, or a server that was already
# running on the port, is left alone.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
started="$(mktemp)"
stop() {
    local data
    data="$(cat "$started" 2>/dev/null || true)"
    rm -f "$started"
    if [ -n "$data" ]; then
        echo "stopping the test PostgreSQL server ($data)" >&2
        bash "$here/postgres.sh" stop "$data" || true
    fi
}
trap stop EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
SRMA_TEST_POSTGRES_URL="$(SRMA_TEST_POSTGRES_STARTED="$started" bash "$here/postgres.sh")"
export SRMA_TEST_POSTGRES_URL
"$@"
