#!/usr/bin/env bash
# Installs the real clients the explain corpus is captured with, from their own registries
# (PyPI, npm, the Go module proxy, Maven Central), into $CAPTURE_DIR (default
# /tmp/dbdoctor-capture) and java/target. The normal test run needs none of this: the corpus
# is checked in. Versions are pinned to the ones the checked-in corpus was captured with.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
dir="${CAPTURE_DIR:-/tmp/dbdoctor-capture}"
mkdir -p "$dir/node"

python3.11 -m venv "$dir/venv"
"$dir/venv/bin/pip" install -q psycopg2-binary==2.9.13 'psycopg[binary]==3.3.9' asyncpg==0.32.0 SQLAlchemy==2.1.9 pymongo==4.20.0 cassandra-driver==3.30.1

(cd "$dir/node" && { [ -f package.json ] || npm init -y >/dev/null; } && npm install --no-audit --no-fund pg@8.23.1 mongodb@7.9.0 cassandra-driver@4.10.0 >/dev/null)

(cd "$here/go" && go build -o "$dir/capture-go" .)

(cd "$here/java" && mvn -q -B package dependency:copy-dependencies -DoutputDirectory=target/lib)

apt-get install -y -q postgresql-client >/dev/null 2>&1 || true
echo "clients installed in $dir; now: npx tsx test/explain/capture/capture.ts"
