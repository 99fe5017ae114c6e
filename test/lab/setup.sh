#!/usr/bin/env bash
# Installs what the test suite needs, from Debian's packages, when it is missing. CI runs this as
# root on a fresh machine (apt-get update first); on a machine that has everything it does nothing.
#   postgresql  server binaries (initdb, pg_ctl) for the throw-away clusters, and the postgres user
#   openssl     certificates for the TLS scenarios
#   iproute2    ip netns / veth / routes for the isolated test hosts
#   util-linux  unshare, nsenter, runuser
#   iptables    firewall faults (DROP, REJECT) inside the lab's network namespaces
#   pgbouncer   the connection pooler the pooler scenarios put in front of the clusters
set -euo pipefail

missing=()
compgen -G '/usr/lib/postgresql/*/bin/initdb' >/dev/null || missing+=(postgresql)
command -v openssl >/dev/null || missing+=(openssl)
command -v ip >/dev/null || missing+=(iproute2)
{ command -v unshare && command -v nsenter && command -v runuser; } >/dev/null || missing+=(util-linux)
command -v iptables >/dev/null || missing+=(iptables)
[[ -x /usr/sbin/pgbouncer ]] || command -v pgbouncer >/dev/null || missing+=(pgbouncer)

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
