# Sourced by test/lab/setup.sh and bench/setup.sh.
# install_from_debian <who> <package…>: installs the packages from Debian's archive as root
# (apt-get update first, as on a fresh machine); as anyone else, names what is missing and fails.
# The packages' own services are not wanted (the tests start their own servers on free ports; a
# system Prometheus or PostgreSQL would take ports and cores): unless the machine already has a
# policy-rc.d, one that forbids starting services is put in place for the install and removed after.
install_from_debian() {
  local who="$1"
  shift
  if [[ "$(id -u)" != 0 ]]; then
    echo "$who: missing $*; run this as root (as CI does) to install them from Debian's packages" >&2
    exit 1
  fi
  echo "$who: installing $*" >&2
  export DEBIAN_FRONTEND=noninteractive
  local policy=/usr/sbin/policy-rc.d placed=
  if [[ ! -e "$policy" ]]; then
    printf '#!/bin/sh\n# dbdoctor test lab: no package services during the install\nexit 101\n' > "$policy"
    chmod 755 "$policy"
    placed=1
  fi
  local status=0
  { apt-get update -qq && apt-get install -y -qq --no-install-recommends "$@" >/dev/null; } || status=$?
  if [[ -n "$placed" ]]; then rm -f "$policy"; fi
  return "$status"
}
