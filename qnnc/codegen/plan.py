"""The plan of generated files for one spec, rendered in memory with strict Jinja2."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import jinja2

from qnnc.codegen import model as model_gen
from qnnc.codegen import train as train_gen
from qnnc.passes.facts import Facts
from qnnc.resources import resource_dir
from qnnc.spec.model import Spec


@dataclass(frozen=True)
class Plan:
    """Relative path -> file text. Deterministic: the same spec gives the same bytes."""

    files: dict[str, str]
    dataset: str | dict = ""  # as train.py names it (Spec.dataset_value)

    @property
    def digest(self) -> str:
        h = hashlib.sha256()
        for path in sorted(self.files):
            h.update(path.encode() + b"\0" + self.files[path].encode() + b"\0")
        return h.hexdigest()

    def describe(self) -> list[str]:
        return [f"{path}  ({len(text.splitlines())} lines, sha256 {hashlib.sha256(text.encode()).hexdigest()[:12]})"
                for path, text in sorted(self.files.items())]


def environment() -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(resource_dir("templates"))),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        autoescape=False,
    )


def generate(spec: Spec, facts: Facts, spec_name: str) -> Plan:
    env = environment()
    values = {
        "model.py": model_gen.template_values(spec, facts, spec_name),
        "train.py": train_gen.template_values(spec, spec_name),
    }
    files = {path: env.get_template(f"{path}.j2").render(**v) for path, v in sorted(values.items())}
    return Plan(files, dataset=spec.dataset_value)
