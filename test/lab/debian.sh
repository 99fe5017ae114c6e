# Sourced by test/lab/setup.sh and bench/setup.sh.
# install_from_debian <who> <package…>: installs the packages from Debian's archive as root
# (apt-get update first, as on a fresh machine); as anyone else, names what is missing and fails.
install_from_debian() {
  local who="$1"
  shift
  if [[ "$(id -u)" != 0 ]]; then
    echo "$who: missing $*; run this as root (as CI does) to install them from Debian's packages" >&2
    exit 1
  fi
  echo "$who: installing $*" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "$@" >/dev/null
}
