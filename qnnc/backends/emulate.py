"""The board, emulated: the design a build's simulate stage built, run on the bytes a driver
left in memory, writing what the output DMA would leave there.

    python -m qnnc.backends.emulate BUILD_DIR INPUT OUTPUT FRAMES

INPUT holds FRAMES frames packed as FINN's driver packs them (what it gives the input DMA);
OUTPUT receives the output DMA's bytes. Every simulated node is checked against FINN's Python
model on the way, as in the simulate stage; a node that differs is exit 1, naming it. Tests
run the deployment folder's ``validate.py`` with the real finn-plus-driver against this, in
place of a board (``tests/test_deploy.py``).
"""

from __future__ import annotations

import sys
from pathlib import Path


def run(root: Path, memory: bytes, frames: int) -> bytes:
    from qnnc.backends import host, hwgen
    from qnnc.backends.finn_compat import prepare_finn
    from qnnc.backends.simulate import SIM_DIR, Run, attach

    prepare_finn()
    root = Path(root).resolve()  # its tools run in folders of their own: no path may be relative
    emulated = Run(attach(root), host.io_shapes(root / hwgen.SETTINGS), root / SIM_DIR)
    written = emulated.through_memory(memory, frames)
    if emulated.divergence is not None:
        d = emulated.divergence
        raise SystemExit(f"emulate: node {d.node} differs from FINN's Python model on frame {d.sample}: {d.how}")
    return written


def main(argv: list[str]) -> int:
    if len(argv) != 4:
        print(__doc__.strip().splitlines()[3].strip(), file=sys.stderr)
        return 2
    root, source, target, frames = Path(argv[0]), Path(argv[1]), Path(argv[2]), int(argv[3])
    target.write_bytes(run(root, source.read_bytes(), frames))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
