#!/usr/bin/env bash
# Installs what the test suite needs, from Debian's packages, when it is missing. CI runs this as
# root on a fresh machine (apt-get update first); on a machine that has everything it does nothing.
#   postgresql  server binaries (initdb, pg_ctl) for the throw-away clusters, and the postgres user
#   openssl     certificates for the TLS scenarios
#   iproute2    ip netns / veth / routes for the isolated test hosts
#   util-linux  unshare, nsenter, runuser
#   openjdk-17-jdk-headless, maven   Java 17 to run Apache Cassandra, Maven to fetch it (below)
set -euo pipefail

missing=()
compgen -G '/usr/lib/postgresql/*/bin/initdb' >/dev/null || missing+=(postgresql)
command -v openssl >/dev/null || missing+=(openssl)
command -v ip >/dev/null || missing+=(iproute2)
{ command -v unshare && command -v nsenter && command -v runuser; } >/dev/null || missing+=(util-linux)
command -v java >/dev/null || missing+=(openjdk-17-jdk-headless)
command -v mvn >/dev/null || missing+=(maven)

if ((${#missing[@]} > 0)); then
  if [[ "$(id -u)" != 0 ]]; then
    echo "dbdoctor tests: missing ${missing[*]}; run this as root (as CI does) to install them from Debian's packages" >&2
    exit 1
  fi
  echo "dbdoctor tests: installing ${missing[*]}" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
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
