"""Backends that drive external toolchains: Brevitas/QONNX export and FINN."""
