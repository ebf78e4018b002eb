#!/usr/bin/env bash
# What tests/test_browser.py (and bench/load_wrk.sh) need beyond the project's Python dependencies,
# and tests/test_replicas.py: nginx (the load balancer in front of two replicas) and rsync (the push).
# The tests drive Debian's chromium at /usr/bin/chromium through the Python 'playwright' package
# (executable_path=...); playwright's own browser download is never used and does not work here.
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive
apt-get update -q
apt-get install -y -q chromium wrk nginx rsync
# playwright is in the project's [test] extra; install it here too when the venv already exists.
if [ -x .venv/bin/pip ]; then
    .venv/bin/pip install -q 'playwright>=1.45'
fi
# axe-core (npm) for the accessibility check in tests/test_browser_explore.py, into .ci/node/ (git-ignored).
if command -v npm >/dev/null 2>&1 || apt-get install -y -q npm; then
    npm install --no-audit --no-fund --prefix .ci/node 'axe-core@^4.10'
fi
