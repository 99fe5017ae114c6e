#!/usr/bin/env bash
# Installs what the benchmarks need, from Debian's packages, when it is missing (as root, on a
# fresh machine: apt-get update first; on a machine that has everything it does nothing), after
# the test lab's own set-up (PostgreSQL, pgbouncer, FerretDB, Java and Cassandra's jars):
#   check-postgres  the check_postgres actions the healthy comparison runs
#   wait-for-it     the port-waiting script the failing targets compare with
#   time            GNU time (/usr/bin/time -v) for peak RSS and CPU time
#   postgresql-client  pg_isready and psql (normally already there with postgresql)
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
bash "$here/../test/lab/setup.sh"
# shellcheck source=test/lab/debian.sh
source "$here/../test/lab/debian.sh"

missing=()
[[ -x /usr/bin/check_postgres ]] || missing+=(check-postgres)
command -v wait-for-it >/dev/null || missing+=(wait-for-it)
[[ -x /usr/bin/time ]] || missing+=(time)
{ command -v pg_isready && command -v psql; } >/dev/null || missing+=(postgresql-client)

if ((${#missing[@]} > 0)); then install_from_debian "dbdoctor bench" "${missing[@]}"; fi

if [[ "$(id -u)" != 0 ]]; then
  echo "dbdoctor bench: the benchmarks need root (network namespaces, clusters run as the postgres user)" >&2
  exit 1
fi
