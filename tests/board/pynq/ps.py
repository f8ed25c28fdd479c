"""A stand-in for pynq.ps (for tests; not Xilinx's): the processing system's clocks."""


class Clocks:
    fclk0_mhz = 100.0
