#!/usr/bin/env bash
# One command that sets up qnnc and its whole stack on a fresh machine with Python 3.11:
#   torch 2.13.0 (CPU), brevitas 0.13.4, qonnx 1.0.0, finn-plus 1.6.1 and qnnc itself.
#
# finn-plus 1.6.1 pins brevitas==0.13.0, which cannot be installed beside torch 2.13.0, and a
# plain `pip install finn-plus` quietly resolves to an old finn-plus instead. So its declared
# dependencies are installed from requirements/finn-plus-deps.txt (brevitas pin removed) and
# finn-plus itself with --no-deps.
#
# Installs into $VIRTUAL_ENV if one is active, else into ./.venv (created if missing).
set -euo pipefail
cd "$(dirname "$0")"

FINN_PLUS_VERSION=1.6.1
PYTHON=${PYTHON:-python3.11}

if [ -n "${VIRTUAL_ENV:-}" ]; then
    VENV=$VIRTUAL_ENV
else
    VENV=.venv
    if [ ! -x "$VENV/bin/python" ]; then
        "$PYTHON" -m venv "$VENV"
    fi
fi
PIP=("$VENV/bin/python" -m pip install --quiet --disable-pip-version-check)

echo "qnnc install: torch 2.13.0 and finn-plus ${FINN_PLUS_VERSION}'s dependencies into $VENV"
"${PIP[@]}" "torch==2.13.0" "brevitas==0.13.4" -r requirements/finn-plus-deps.txt
echo "qnnc install: finn-plus ${FINN_PLUS_VERSION} (without its brevitas==0.13.0 pin)"
"${PIP[@]}" --no-deps "finn-plus==${FINN_PLUS_VERSION}"
echo "qnnc install: qnnc (editable) with test tools"
"${PIP[@]}" -e ".[dev]"

"$VENV/bin/python" - <<'PY'
from importlib.metadata import version
want = {"torch": "2.13.0", "brevitas": "0.13.4", "qonnx": "1.0.0", "finn-plus": "1.6.1"}
got = {name: version(name).split("+")[0] for name in want}
bad = {n: (got[n], w) for n, w in want.items() if got[n] != w}
if bad:
    raise SystemExit(f"qnnc install: wrong versions installed (got, wanted): {bad}")
print("qnnc install: ok -", ", ".join(f"{n} {v}" for n, v in got.items()))
PY

# C++ simulation's sources (finn-hlslib at finn-plus's pin, the ap_int headers): $QNNC_THIRD_PARTY,
# or fetched by git into the cache where GitHub is reachable; never a reason to fail the install
"$VENV/bin/python" -m qnnc.backends.third_party
