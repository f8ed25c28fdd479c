"""A stand-in for the PYNQ library on a board, for tests: the part finn-plus-driver's
FINNDMAOverlay uses (Overlay, allocate, the IODMAs' control registers), with the accelerator
emulated by qnnc (``python -m qnnc.backends.emulate``) on the simulated design of a build.

Written for qnnc's tests; not Xilinx's. Set QNNC_BOARD_BUILD (the build directory) and
QNNC_BOARD_PYTHON (qnnc's interpreter), and put this folder first on PYTHONPATH.
"""

import os
import subprocess
import tempfile
from pathlib import Path

import numpy as np

AP_START, AP_DONE, AP_IDLE = 0x1, 0x2, 0x4  # an HLS block's control register (offset 0x00)
ADDRESS_LO, ADDRESS_HI, REPEATS = 0x10, 0x14, 0x1C  # FINN's IODMA: its buffer's address, its frame count

_buffers = {}  # device address -> buffer
_next_address = [0x1000_0000]


class PynqBuffer(np.ndarray):
    """Memory the processor shares with the accelerator."""

    def flush(self):
        pass

    def invalidate(self):
        pass


def allocate(shape, dtype=np.uint32, cacheable=True, target=None, **_kwargs):
    buffer = np.zeros(shape, dtype=dtype).view(PynqBuffer)
    buffer.device_address = buffer.physical_address = _next_address[0]
    _next_address[0] += (buffer.nbytes + 0xFFF) & ~0xFFF
    _buffers[buffer.device_address] = buffer
    return buffer


class DMA:
    """One IODMA's AXI-lite registers; starting the output DMA after the input DMA runs the
    emulated accelerator."""

    def __init__(self, board, name):
        self.board, self.name, self.registers = board, name, {0x00: AP_IDLE}

    def write(self, offset, value):
        self.registers[offset] = value
        if offset == 0x00 and value & AP_START:
            self.registers[0x00] = 0
            self.board.started(self)

    def read(self, offset):
        return self.registers.get(offset, 0)

    def buffer(self):
        return _buffers[self.registers[ADDRESS_LO] | (self.registers.get(ADDRESS_HI, 0) << 32)]


class Bitstream:
    """Imported by finn-plus-driver's instrumentation overlays; the DMA overlay never uses it."""

    def __init__(self, *_args, **_kwargs):
        raise NotImplementedError("the test board loads no bitstream")


class Overlay:
    def __init__(self, bitfile_name, download=True, device=None, **_kwargs):
        if not os.path.isfile(bitfile_name):
            raise OSError(f"bitfile {bitfile_name} not found")
        self.bitfile_name, self.device = bitfile_name, device
        self.ip_dict = {name: DMA(self, name) for name in ("idma0", "odma0")}
        self._pending = []

    def __getattr__(self, name):
        ip_dict = self.__dict__.get("ip_dict", {})
        if name in ip_dict:
            return ip_dict[name]
        raise AttributeError(name)

    def started(self, dma):
        self._pending.append(dma)
        if {d.name for d in self._pending} >= {"idma0", "odma0"}:
            self._pending = []
            self._run()

    def _run(self):
        idma, odma = self.ip_dict["idma0"], self.ip_dict["odma0"]
        frames = idma.read(REPEATS)
        source, target = idma.buffer(), odma.buffer()
        with tempfile.TemporaryDirectory() as scratch:
            memory_in, memory_out = Path(scratch) / "in.bin", Path(scratch) / "out.bin"
            memory_in.write_bytes(source.tobytes())
            subprocess.run([os.environ["QNNC_BOARD_PYTHON"], "-m", "qnnc.backends.emulate",
                            os.environ["QNNC_BOARD_BUILD"], str(memory_in), str(memory_out), str(frames)],
                           check=True)
            written = np.frombuffer(memory_out.read_bytes(), dtype=np.uint8)
        target.reshape(-1)[: written.size] = written
        for dma in (idma, odma):
            dma.registers[0x00] = AP_DONE | AP_IDLE
