"""The spec's value types, parsed once: the raw input's type (``uint8``, ``int4``, ``bipolar``,
``binary``, ``float32``) and a quantizer's (``bipolar``, ``intN``, ``uintN``)."""

from __future__ import annotations

import re
from dataclasses import dataclass

_INT = re.compile(r"^(u?)int([1-9][0-9]{0,2})$")  # more than three digits is no type anyone means


@dataclass(frozen=True)
class ValueType:
    name: str  # as written in the spec
    bits: int
    signed: bool
    kind: str  # "bipolar" (-1/+1), "binary" (0/1), "int", "float"

    @classmethod
    def parse(cls, name: str) -> ValueType | None:
        """The type a name stands for; None if it names none."""
        if name == "bipolar":
            return cls(name, 1, True, "bipolar")
        if name == "binary":
            return cls(name, 1, False, "binary")
        if name == "float32":
            return cls(name, 32, True, "float")
        match = _INT.match(name)
        return cls(name, int(match.group(2)), not match.group(1), "int") if match else None

    @property
    def finn_name(self) -> str:
        """FINN's DataType name (UINT8, INT4, BIPOLAR, BINARY, FLOAT32)."""
        return self.name.upper()

    @property
    def values(self) -> range | None:
        """The integers an integer type holds (None for float, bipolar and binary)."""
        if self.kind != "int":
            return None
        return range(-(2 ** (self.bits - 1)), 2 ** (self.bits - 1)) if self.signed else range(0, 2**self.bits)

    @property
    def levels(self) -> int:
        """A quantizer's steps per unit of its range: [-1, 1] signed, [0, 1] unsigned."""
        return 2 ** (self.bits - 1) - 1 if self.signed else 2**self.bits - 1
