#!/usr/bin/env bash
# Installs what the test suite needs, from Debian's packages, when it is missing. CI runs this as
# root on a fresh machine (apt-get update first); on a machine that has everything it does nothing.
#   postgresql  server binaries (initdb, pg_ctl) for the throw-away clusters, and the postgres user
#   openssl     certificates for the TLS scenarios
#   iproute2    ip netns / veth / routes for the isolated test hosts
#   util-linux  unshare, nsenter, runuser
#   iptables    firewall faults (DROP, REJECT) inside the lab's network namespaces
#   zsh, fish, dash   to check the completion scripts dbdoctor prints for them, and that every
#               printed command pastes the same in bash, zsh, fish and sh (dash)
#   cmark-gfm   GitHub's Markdown renderer, to check that the Markdown report makes no link
#   pgbouncer   the connection pooler the pooler scenarios put in front of the clusters
#   ferretdb    a MongoDB wire-protocol server (FerretDB 1.x, SQLite backend), built once with Go into
#               .lab/ferretdb/ (ignored by git); golang-go from Debian only when no Go is installed
#   openjdk-17-jdk-headless, maven   Java 17 to run Apache Cassandra, Maven to fetch it (below)
#   prometheus  the real Prometheus that scrapes `dbdoctor exporter` in the tests, and promtool to
#               check its metrics, alerting rules and rule unit tests; the tests start their own
#               server on a free loopback port, so the package's service is kept from starting
#   libc-l10n   glibc's message translations: test/explain/catalogs.test.ts checks explain's tables against them
#   python3     its http.server, and a socket that never answers: listeners that are not a database
#   dropbear-bin, redis-server   an SSH server (it speaks first) and Redis (it waits for a command) on
#               the target port, for the "what listens here?" scenarios; they start no service (below)
set -euo pipefail
# shellcheck source=test/lab/debian.sh
source "$(dirname "$0")/debian.sh"

missing=()
compgen -G '/usr/lib/postgresql/*/bin/initdb' >/dev/null || missing+=(postgresql)
command -v openssl >/dev/null || missing+=(openssl)
command -v ip >/dev/null || missing+=(iproute2)
{ command -v unshare && command -v nsenter && command -v runuser; } >/dev/null || missing+=(util-linux)
command -v iptables >/dev/null || missing+=(iptables)
command -v zsh >/dev/null || missing+=(zsh)
command -v fish >/dev/null || missing+=(fish)
command -v dash >/dev/null || missing+=(dash)
command -v cmark-gfm >/dev/null || missing+=(cmark-gfm)
[[ -x /usr/sbin/pgbouncer ]] || command -v pgbouncer >/dev/null || missing+=(pgbouncer)
command -v java >/dev/null || missing+=(openjdk-17-jdk-headless)
command -v mvn >/dev/null || missing+=(maven)
{ command -v prometheus && command -v promtool; } >/dev/null || missing+=(prometheus)
[[ -f /usr/share/locale/de/LC_MESSAGES/libc.mo ]] || missing+=(libc-l10n)
command -v python3 >/dev/null || missing+=(python3)
# The portable host backend (issue 21) is tested on Linux with Debian's lsof, forced on.
command -v lsof >/dev/null || missing+=(lsof)

if ((${#missing[@]} > 0)); then install_from_debian "dbdoctor tests" "${missing[@]}"; fi

# The tests start these daemons themselves, on free loopback ports. Debian's maintainer scripts
# would start redis-server as a service on 6379: a policy-rc.d that refuses (exit 101) keeps them
# from it while they install, unless the machine has its own policy already.
daemons=()
command -v dropbear >/dev/null || daemons+=(dropbear-bin)
command -v redis-server >/dev/null || daemons+=(redis-server)
if ((${#daemons[@]} > 0)); then
  guard=""
  if [[ "$(id -u)" == 0 && ! -e /usr/sbin/policy-rc.d ]]; then
    guard=/usr/sbin/policy-rc.d
    printf '#!/bin/sh\nexit 101\n' > "$guard"
    chmod 755 "$guard"
    trap 'rm -f /usr/sbin/policy-rc.d' EXIT
  fi
  install_from_debian "dbdoctor tests" "${daemons[@]}"
  if [[ -n "$guard" ]]; then
    rm -f "$guard"
    trap - EXIT
  fi
fi

# FerretDB's module ships without the version file its build embeds, so it is built from a vendored
# copy with that file written in (go install of the module alone panics at start).
FERRETDB_VERSION=v1.24.0
FERRETDB_BIN="$(cd "$(dirname "$0")/../.." && pwd)/.lab/ferretdb/${FERRETDB_VERSION}/ferretdb"
if [[ ! -x "$FERRETDB_BIN" ]]; then
  if ! command -v go >/dev/null && [[ -x /usr/local/go/bin/go ]]; then export PATH="$PATH:/usr/local/go/bin"; fi
  if ! command -v go >/dev/null; then install_from_debian "dbdoctor tests (Go, to build FerretDB)" golang-go ca-certificates; fi
  echo "dbdoctor tests: building FerretDB ${FERRETDB_VERSION} (once; cached in .lab/ferretdb)" >&2
  build="$(dirname "$FERRETDB_BIN")/build"
  rm -rf "$build" && mkdir -p "$build"
  (
    cd "$build"
    export GOFLAGS=-mod=mod
    go mod init dbdoctor.lab/ferretdb >/dev/null 2>&1
    printf '//go:build tools\n\npackage tools\n\nimport _ "github.com/FerretDB/FerretDB/cmd/ferretdb"\n' > tools.go
    go get "github.com/FerretDB/FerretDB/cmd/ferretdb@${FERRETDB_VERSION}" >/dev/null 2>&1
    go mod tidy >/dev/null 2>&1
    go mod vendor
    echo "$FERRETDB_VERSION" > vendor/github.com/FerretDB/FerretDB/build/version/version.txt
    GOFLAGS=-mod=vendor go build -o "$FERRETDB_BIN" github.com/FerretDB/FerretDB/cmd/ferretdb
  )
  rm -rf "$build"
  # Not `--version | head -1`: under pipefail, head closing the pipe early fails the build with SIGPIPE.
  ferretdb_version="$("$FERRETDB_BIN" --version)"
  echo "dbdoctor tests: built FerretDB, ${ferretdb_version%%$'\n'*}" >&2
fi

if [[ "$(id -u)" != 0 ]]; then
  echo "dbdoctor tests: the isolated-host scenarios need root (network and PID namespaces); they will fail, not skip" >&2
fi

# Apache Cassandra for the Cassandra scenarios: cassandra-all and its runtime dependencies from
# Maven Central, resolved once into a cache directory (test/lab/cassandra.ts reads the same path).
lab="$(cd "$(dirname "$0")" && pwd)"
cassandra_version="$(sed -n 's:.*<cassandra.version>\(.*\)</cassandra.version>.*:\1:p' "$lab/cassandra/pom.xml")"
cassandra_lib="${DBDOCTOR_CACHE:-$HOME/.cache/dbdoctor}/cassandra-$cassandra_version/lib"
if [[ ! -f "$cassandra_lib/.complete" ]]; then
  echo "dbdoctor tests: fetching Apache Cassandra $cassandra_version from Maven Central into $cassandra_lib" >&2
  mvn -q -B -f "$lab/cassandra/pom.xml" dependency:copy-dependencies -DincludeScope=runtime -DoutputDirectory="$cassandra_lib"
  touch "$cassandra_lib/.complete"
fi

# pgjdbc's jar, whose translations explain's catalog tables are checked against
# (test/explain/catalogs.test.ts; scripts/catalogs/sources.ts reads the same path).
pgjdbc_version="$(sed -n "s:^export const PGJDBC_VERSION = '\(.*\)';:\1:p" "$lab/../../scripts/catalogs/sources.ts")"
pgjdbc_jar="${DBDOCTOR_CACHE:-$HOME/.cache/dbdoctor}/catalogs/postgresql-$pgjdbc_version.jar"
if [[ ! -f "$pgjdbc_jar" ]]; then
  echo "dbdoctor tests: fetching pgjdbc $pgjdbc_version from Maven Central into $(dirname "$pgjdbc_jar")" >&2
  mvn -q -B dependency:copy "-Dartifact=org.postgresql:postgresql:$pgjdbc_version" "-DoutputDirectory=$(dirname "$pgjdbc_jar")"
fi
