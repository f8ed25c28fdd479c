"""The typed spec: what a .qnn file means once parsed and validated.

Every model documents its fields; every layer keeps the span of the text it came from so
that later passes can point diagnostics at the spec.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Annotated, ClassVar, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Discriminator, Field, Tag, model_validator

from qnnc.datasets_info import DATASETS
from qnnc.errors import NOWHERE, Span
from qnnc.hw.boards import BOARDS
from qnnc.spec.types import ValueType

BoardName = Literal[tuple(BOARDS)]  # type: ignore[valid-type]
DatasetName = Literal[tuple(DATASETS)]  # type: ignore[valid-type]
Bits = Annotated[int, Field(ge=1, le=8, description="bit-width; 1 means bipolar (+1/-1)")]

FREQUENCY_UNITS = {"hz": 1e-6, "khz": 1e-3, "mhz": 1.0, "ghz": 1e3}


def kept_outputs(out: int, sparsity: float) -> int:
    """Of ``out`` outputs, how many structured pruning at ``sparsity`` keeps (at least one); the
    trainer's pruning and the spec's widths both count with this."""
    return max(1, out - int(out * sparsity + 1e-9))


class UnitValue(tuple):
    """A number with a unit, as written in the spec (``100 MHz``)."""

    def __new__(cls, value: float, unit: str):
        return super().__new__(cls, (value, unit))


class PercentValue(float):
    """A percentage, stored as a fraction (``25%`` -> 0.25)."""


def _to_mhz(value):
    if isinstance(value, UnitValue):
        number, unit = value
        if unit.lower() == "ns":
            if number <= 0:
                raise ValueError("a clock period must be positive")
            return 1e3 / number
        if unit.lower() not in FREQUENCY_UNITS:
            raise ValueError(f"unknown unit '{unit}', expected MHz, kHz, GHz or ns")
        return number * FREQUENCY_UNITS[unit.lower()]
    return value


def _to_fraction(value):
    if isinstance(value, PercentValue):
        return float(value)
    if isinstance(value, (int, float)) and value > 1:
        raise ValueError("write a share as a percentage, e.g. 80%")
    return value


def _to_bits(value):
    if isinstance(value, UnitValue):
        number, unit = value
        if unit not in ("bit", "bits"):
            raise ValueError(f"expected a bit-width such as '2 bit', found unit '{unit}'")
        return number
    return value


def _to_fps(value):
    if value == "max":
        return math.inf
    return value


Mhz = Annotated[float, BeforeValidator(_to_mhz), Field(gt=0, le=1000)]
Fraction = Annotated[float, BeforeValidator(_to_fraction), Field(gt=0, le=1)]
BitsValue = Annotated[int, BeforeValidator(_to_bits), Field(ge=1, le=8)]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, arbitrary_types_allowed=True, ser_json_inf_nan="constants")


class Located(Strict):
    span: Span = Field(default=NOWHERE, exclude=True, description="where in the spec text")
    field_spans: dict[str, Span] = Field(default_factory=dict, exclude=True, repr=False)

    def span_of(self, field: str) -> Span:
        """Where ``field`` was written, or the whole node if it was not written."""
        return self.field_spans.get(field, self.span)


# ---- network ----------------------------------------------------------------------------
class InputSpec(Located):
    """The network input: raw data type, shape, scaling and input quantizer."""

    dtype: str = Field(description="raw data type: uint8, int8, bipolar, float32, uintN, intN")
    shape: tuple[int, ...] = Field(description="per-sample shape, channels first: [C, H, W], [C, L] or [N]")
    scale: float = Field(default=1.0, description="multiplier applied to raw values")
    quant: str | None = Field(default=None, description="input quantizer: bipolar, intN or uintN")
    mean: tuple[float, ...] | None = Field(default=None, description="normalisation: subtracted after the scale, "
                                           "one value per channel or one for all")
    std: tuple[float, ...] | None = Field(default=None, description="normalisation: the divisor after the mean")

    def normalization(self) -> tuple[tuple[float, ...], tuple[float, ...]] | None:
        """Per channel (mean, std), or None: the quantizer then sees the scaled raw value, mapped
        to [-1, 1] for a signed quantizer."""
        if self.mean is None:
            return None
        channels = self.shape[0] if len(self.shape) > 1 else 1
        return tuple(self.mean * (channels // len(self.mean))), tuple(self.std * (channels // len(self.std)))

    @property
    def raw_type(self) -> ValueType:
        return ValueType.parse(self.dtype)

    @property
    def quant_type(self) -> ValueType | None:
        return ValueType.parse(self.quant) if self.quant else None

    @property
    def value_type(self) -> ValueType:
        """The type of the values the first layer sees: the quantizer's, else the raw type."""
        return self.quant_type or self.raw_type


class Defaults(Strict):
    weights: BitsValue = Field(default=8, description="default weight bit-width")
    acts: BitsValue = Field(default=8, description="default activation bit-width")


class LayerBase(Located):
    name: str = Field(description="unique layer name (a Python identifier)")
    sparsity: float = Field(default=0.0, ge=0.0, lt=1.0, description="share of neurons/channels pruned")
    sparsity_style: Literal["structured", "unstructured"] = "structured"


class WeightLayer(LayerBase):
    """A layer with weights, which FINN maps to a matrix-vector unit (MVAU)."""

    out: int = Field(ge=1, description="output features or channels")
    bias: bool = Field(default=False, description="learn a bias")
    weights: Bits = 8

    @property
    def kept(self) -> int:
        """Outputs (neurons or channels) left after structured pruning: these are what the hardware has."""
        return kept_outputs(self.out, self.sparsity) if self.sparsity_style == "structured" else self.out


class Linear(WeightLayer):
    kind: Literal["linear"] = "linear"


def _to_kernel(value):
    """One whole number (square), or [height, width]: anything else is refused here, in one
    message, rather than by each member of the union."""
    def whole(v):
        return isinstance(v, int) and not isinstance(v, bool) and v >= 1
    if isinstance(value, list | tuple):
        if len(value) == 2 and all(whole(v) for v in value):
            return tuple(value)
        raise ValueError(f"a kernel is one whole number or [height, width], two whole numbers >= 1; found {value}")
    if not whole(value):
        raise ValueError(f"a kernel is one whole number >= 1 or [height, width]; found {value!r}")
    return value


class Conv(WeightLayer):
    """A convolution: FINN lowers it to a sliding-window generator feeding a matrix unit."""

    stride: int = Field(default=1, ge=1)
    padding: int = Field(default=0, ge=0)

    @property
    def depthwise(self) -> bool:
        return False

    @property
    def window(self) -> tuple[int, int]:
        """The kernel's (height, width) as FINN's 4-D hardware layout has it."""
        raise NotImplementedError


class Conv2d(Conv):
    kind: Literal["conv2d"] = "conv2d"
    kernel: Annotated[int | tuple[int, int], BeforeValidator(_to_kernel)] = Field(
        default=3, description="kernel size: one number (square) or [height, width]")
    groups: int = Field(default=1, ge=1, description="1: every output sees every input channel; the input "
                        "channels (with as many outputs): depthwise, one filter per channel (FINN's VVAU)")

    @property
    def depthwise(self) -> bool:
        return self.groups > 1

    @property
    def window(self) -> tuple[int, int]:
        return (self.kernel, self.kernel) if isinstance(self.kernel, int) else self.kernel


class Conv1d(Conv):
    """A 1-D convolution over [channels, length] (Brevitas' QuantConv1d). FINN sees it as a 2-D
    one on [channels, length, 1] (qonnx's Change3DTo4DTensors), its kernel [k, 1]."""

    kind: Literal["conv1d"] = "conv1d"
    kernel: int = Field(default=3, ge=1)

    @property
    def window(self) -> tuple[int, int]:
        return self.kernel, 1


class MaxPool(LayerBase):
    kind: Literal["maxpool"] = "maxpool"
    kernel: int = Field(default=2, ge=1)
    stride: int | None = Field(default=None, ge=1, description="defaults to the kernel size")


class MaxPool1d(MaxPool):
    """Max pooling over [channels, length] (PyTorch's MaxPool1d)."""

    kind: Literal["maxpool1d"] = "maxpool1d"


class AvgPool(LayerBase):
    """Average pooling (Brevitas' TruncAvgPool2d; FINN's Pool unit): the sum of each window, kept
    whole, at the scale of the average. Without a kernel, the whole feature map (global average
    pooling)."""

    kind: Literal["avgpool"] = "avgpool"
    kernel: int | None = Field(default=None, ge=1, description="square window; none: the whole feature map")
    stride: int | None = Field(default=None, ge=1, description="defaults to the kernel size")


class Flatten(LayerBase):
    kind: Literal["flatten"] = "flatten"


class BatchNorm(LayerBase):
    kind: Literal["batchnorm"] = "batchnorm"


class Act(LayerBase):
    """A quantized activation: relu (unsigned), hardtanh and identity (signed), bipolar (sign)."""

    kind: Literal["act"] = "act"
    func: Literal["relu", "hardtanh", "bipolar", "identity"]
    bits: Bits = 8


class Residual(LayerBase):
    """Where a residual block starts: its input goes both through the block's layers and around
    them (FINN's DuplicateStreams)."""

    kind: Literal["residual"] = "residual"


class Add(LayerBase):
    """Where a residual block ends: q(q(x) + skip), q the quantizer of the activation before the
    block, so that both operands and the sum share one integer grid (FINN's elementwise add,
    bit-exact: no value is rounded)."""

    kind: Literal["add"] = "add"
    block: str = Field(description="the residual block it closes")


class Dropout(LayerBase):
    """Training only: zeroes a random share of its input while training (Brevitas' FC and CNV use
    it); an identity in the exported model and the hardware."""

    kind: Literal["dropout"] = "dropout"
    p: float = Field(default=0.2, gt=0, lt=1, description="share of values zeroed in each training step")


Layer = Annotated[Linear | Conv2d | Conv1d | MaxPool | MaxPool1d | AvgPool | Flatten | BatchNorm | Act | Dropout
                  | Residual | Add, Field(discriminator="kind")]
LAYER_MODELS = {m.model_fields["kind"].default: m for m in (Linear, Conv2d, Conv1d, MaxPool, MaxPool1d, AvgPool,
                                                            Flatten, BatchNorm, Act, Dropout, Residual, Add)}


class OutputSpec(Located):
    """What the accelerator returns: raw logits, the class label, or the top-k labels."""

    kind: Literal["logits", "label", "top"] = "logits"
    k: int = Field(default=1, ge=1)


class NetworkSpec(Located):
    name: str
    input: InputSpec
    layers: tuple[Layer, ...]
    output: OutputSpec = OutputSpec()


# ---- train ------------------------------------------------------------------------------
class _Choice(Strict):
    """A named choice whose settings depend on the name: a setting the chosen one does not use is
    a mistake (it would be ignored), not a choice."""

    TAKES: ClassVar[dict[str, frozenset[str]]]  # each name -> the settings it uses
    WHY: ClassVar[dict[str, str]] = {}  # a name -> why it takes no more (added to the message)

    @model_validator(mode="after")
    def _settings_of_its_choice(self):
        takes = self.TAKES[self.name]
        foreign = sorted(self.model_fields_set - {"name"} - takes)
        if foreign:
            uses = f"takes {', '.join(sorted(takes))}" if takes else "takes no settings"
            why = f": {self.WHY[self.name]}" if self.name in self.WHY else ""
            raise ValueError(f"{self.name} {uses}, not {', '.join(f'{key}=...' for key in foreign)}{why}")
        return self


class Optimizer(_Choice):
    TAKES = {"adam": frozenset({"lr", "weight_decay"}), "adamw": frozenset({"lr", "weight_decay"}),
             "sgd": frozenset({"lr", "weight_decay", "momentum"})}

    name: Literal["adam", "adamw", "sgd"] = "adam"
    lr: float = Field(default=0.02, gt=0, le=10, description="Brevitas' bnn_pynq default, which the TFC examples use")
    weight_decay: float = Field(default=0.0, ge=0, description="on every parameter but the clipped 1- and 2-bit "
                                "weights")
    momentum: float = Field(default=0.9, ge=0, lt=1, description="sgd only")


class Schedule(_Choice):
    TAKES = {"none": frozenset({"warmup"}), "cosine": frozenset({"warmup"}),
             "step": frozenset({"warmup", "step_size", "gamma"}), "onecycle": frozenset()}
    WHY = {"onecycle": "it warms up on its own (its first 30 %); use cosine(warmup=...) for a set warm-up"}

    name: Literal["none", "cosine", "step", "onecycle"] = "cosine"
    step_size: int = Field(default=10, ge=1, description="step: epochs between decays")
    gamma: float = Field(default=0.1, gt=0, le=1, description="step: decay factor")
    warmup: int = Field(default=0, ge=0, le=100000, description="epochs of linear learning-rate warm-up first")


class Augment(_Choice):
    """Training-time changes to each batch (never exported, never at test time)."""

    TAKES = {"none": frozenset(), "shift": frozenset({"pixels"}), "elastic": frozenset({"alpha", "sigma"})}

    name: Literal["none", "shift", "elastic"] = "none"
    pixels: int = Field(default=2, ge=1, le=64, description="shift: the largest shift each way, in pixels (samples "
                        "of a 1-D input: along its length)")
    alpha: float = Field(default=34.0, gt=0, le=1000, description="elastic: scale of the smoothed random "
                         "displacement field, in pixels per unit of noise (Simard et al.: 34)")
    sigma: float = Field(default=4.0, gt=0, le=64, description="elastic: width of the Gaussian that smooths the "
                         "field, in pixels (Simard et al.: 4)")


class Teacher(_Choice):
    """A float network trained first, whose softened outputs the quantized network also learns
    from (knowledge distillation)."""

    TAKES = {"none": frozenset(), "float": frozenset({"epochs", "lr", "weight", "temperature"})}

    name: Literal["none", "float"] = "none"
    epochs: int = Field(default=15, ge=1, le=100000, description="float: the teacher's training epochs")
    lr: float = Field(default=0.003, gt=0, le=10, description="float: the teacher's Adam learning rate")
    weight: Annotated[float, BeforeValidator(_to_fraction), Field(gt=0, le=1)] = Field(
        default=0.5, description="float: share of the loss that follows the teacher (the rest follows the labels)")
    temperature: float = Field(default=4.0, gt=0, le=100, description="float: both networks' logits are divided "
                               "by it before they are compared")


def _call_to_dict(value):
    """``adam`` -> {'name': 'adam'}; ``adam(lr=0.1)`` arrives already as a dict."""
    return {"name": value} if isinstance(value, str) else value


USER_DATA_SOURCE = {"npz": "file", "folder": "path", "python": "function"}  # a kind of user data -> its setting


class UserData(Strict):
    """A dataset of the user's own: its classes declared, its samples of the network's input shape
    (checked when it is loaded; lint and estimate never load it). Paths are relative to the spec."""

    kind: Literal["npz", "folder", "python"] = Field(
        description="npz: one NumPy .npz file with arrays x_train, y_train, x_test, y_test; folder: a folder of "
        "those four as .npy files, or of IDX files named as MNIST's; python: a function returning the four arrays")
    file: str | None = Field(default=None, description="npz: the .npz file")
    path: str | None = Field(default=None, description="folder: the folder")
    function: str | None = Field(default=None, description="python: 'module:function' (the spec's folder is on "
                                 "the import path)")
    classes: int = Field(ge=2, le=65536, description="how many classes the labels name (0 .. classes-1)")

    @model_validator(mode="after")
    def _its_source(self) -> UserData:
        wanted = USER_DATA_SOURCE[self.kind]
        others = [k for k in USER_DATA_SOURCE.values() if k != wanted and getattr(self, k) is not None]
        if others:
            raise ValueError(f"{self.kind}(...) takes {wanted}=..., not {', '.join(others)}=...")
        if getattr(self, wanted) is None:
            raise ValueError(f"{self.kind}(...) needs {wanted}=..., e.g. {example_user_data(self.kind)}")
        return self

    @property
    def source(self) -> str:
        return getattr(self, USER_DATA_SOURCE[self.kind])

    @property
    def outputs(self) -> int:
        """Width of the network output: one unit per class, one for a two-class problem."""
        return 1 if self.classes == 2 else self.classes


def example_user_data(kind: str) -> str:
    return {"npz": 'npz(file="data/kws.npz", classes=12)', "folder": 'folder(path="data/gtsrb", classes=43)',
            "python": 'python(function="mydata:load", classes=24)'}[kind]


def _dataset_kind(value) -> str:
    return "data" if isinstance(value, dict | UserData) else "dataset"


# a built-in dataset's name, or the user's own data (the tags name what pydantic's errors are about)
Dataset = Annotated[
    Annotated[DatasetName, Tag("dataset")] | Annotated[UserData, Tag("data")], Discriminator(_dataset_kind)]
UNION_TAGS = frozenset({"dataset", "data"})  # a location's parts that are these tags name no setting


TORCH_BATCHNORM_MOMENTUM = 0.1  # PyTorch's default: a spec that keeps it leaves it out of model.py


class TrainSpec(Located):
    """The quantization-aware training recipe."""

    dataset: Dataset = Field(description="a built-in dataset's name (see qnnc.datasets_info), or the user's own "
                             "data: npz(file=..., classes=N), folder(path=..., classes=N), python(function=..., "
                             "classes=N)")
    # The defaults are the TFC examples' recipe, which reaches Brevitas' published accuracy for TFC at every
    # bit width (README, bench/train_accuracy.py): a short train block gets it.
    epochs: int = Field(default=30, ge=1, le=100000)
    batch: int = Field(default=256, ge=1, le=65536)
    optimizer: Annotated[Optimizer, BeforeValidator(_call_to_dict)] = Optimizer()
    schedule: Annotated[Schedule, BeforeValidator(_call_to_dict)] = Schedule()
    seed: int = Field(default=0, ge=0)
    samples: int | None = Field(default=None, ge=1, description="train on the first N samples only")
    finetune: int = Field(default=1, ge=0, description="epochs of fine-tuning after pruning")
    label_smoothing: Annotated[float, BeforeValidator(_to_fraction), Field(ge=0, lt=1)] = Field(
        default=0.0, description="share of each target spread over the other classes (PyTorch's label_smoothing)")
    batchnorm_momentum: Annotated[float, BeforeValidator(_to_fraction), Field(gt=0, le=1)] = Field(
        default=TORCH_BATCHNORM_MOMENTUM, description="weight of each batch in every batch norm's running mean and "
        "variance, which the exported thresholds fold in (PyTorch's momentum)")
    validation: Annotated[float, BeforeValidator(_to_fraction), Field(ge=0, lt=1)] = Field(
        default=0.1, description="share of the training samples held out: scored after every epoch, it picks the "
        "model kept (the best epoch) and stops a phase early (patience); the test set is scored once, at the end")
    patience: int | None = Field(default=None, ge=1, description="stop a phase after this many epochs without a "
                                 "better validation accuracy; every epoch runs if unset")
    augment: Annotated[Augment, BeforeValidator(_call_to_dict)] = Field(
        default=Augment(), description="shift(pixels=N): each training sample moved by up to N pixels each way, "
        "its own random shift, zero-filled (MNIST's digits, I/Q frames); elastic(alpha=34, sigma=4): each image's "
        "pixels moved by a smooth random field (Simard et al. 2003); none by default")
    teacher: Annotated[Teacher, BeforeValidator(_call_to_dict)] = Field(
        default=Teacher(), description="float(epochs=N, lr=..., weight=..., temperature=...): first train the same "
        "network in float (float weights, every activation a ReLU), then train the quantized one on its softened "
        "outputs as well as the labels; none by default")

    @property
    def user_data(self) -> UserData | None:
        return self.dataset if isinstance(self.dataset, UserData) else None

    @property
    def outputs(self) -> int:
        """Width of the network output the data asks for (one per class; one for two classes)."""
        return self.user_data.outputs if self.user_data else DATASETS[self.dataset].outputs

    @property
    def classes(self) -> int:
        return self.user_data.classes if self.user_data else DATASETS[self.dataset].classes


# ---- target -----------------------------------------------------------------------------
MAX_FIFO_DEPTH = 1 << 20  # far past any FIFO a small FPGA holds (a typo guard)


class Fold(Located):
    """FINN folding for one layer, as in FINN's folding config JSON."""

    pe: int | None = Field(default=None, ge=1, description="processing elements (output parallelism)")
    simd: int | None = Field(default=None, ge=1, description="SIMD lanes (input parallelism)")
    ram_style: Literal["auto", "block", "distributed", "ultra"] | None = None
    resType: Literal["auto", "lut", "dsp"] | None = None  # noqa: N815 - FINN's own key
    mem_mode: Literal["internal_embedded", "internal_decoupled", "external"] | None = None
    in_fifo: int | None = Field(default=None, ge=2, le=MAX_FIFO_DEPTH, description="depth of the FIFO before the "
                                "layer's first unit (FINN's inFIFODepths); FINN's default is 2")
    out_fifo: int | None = Field(default=None, ge=2, le=MAX_FIFO_DEPTH, description="depth of the FIFO after the "
                                 "layer's last unit (FINN's outFIFODepths); between two layers the deeper one is built")

    def unit_settings(self) -> dict:
        """The settings the solver keeps fixed, in FINN's attribute names (not the FIFOs)."""
        return {FINN_NAMES[k]: v for k, v in self.model_dump(exclude_none=True).items() if k in FINN_NAMES}


# a fold setting -> the FINN node attribute it sets (FIFO depths: ``FIFO_NAMES``, lists in FINN)
FINN_NAMES = {"pe": "PE", "simd": "SIMD", "ram_style": "ram_style", "resType": "resType", "mem_mode": "mem_mode"}
FIFO_NAMES = {"in_fifo": "inFIFODepths", "out_fifo": "outFIFODepths"}


class TargetSpec(Located):
    """The board, clock, throughput goal and optional folding."""

    board: BoardName
    clock: Mhz | None = Field(default=None, description="clock in MHz; the board's default if unset")
    fps: Annotated[float, BeforeValidator(_to_fps), Field(gt=0)] = Field(
        default=math.inf, description="throughput goal in frames/s, or max"
    )
    max_lut: Fraction = Field(default=0.8, description="utilization cap for LUTs")
    max_bram: Fraction = Field(default=0.9, description="utilization cap for BRAM")
    max_dsp: Fraction = Field(default=0.9, description="utilization cap for DSPs")
    folds: dict[str, Fold] = Field(default_factory=dict)

    @property
    def clock_mhz(self) -> float:
        return self.clock if self.clock is not None else BOARDS[self.board].default_clock_mhz


# ---- sweep ------------------------------------------------------------------------------
SweepBits = tuple[BitsValue, ...]
SweepShares = tuple[Annotated[float, BeforeValidator(_to_fraction), Field(ge=0, lt=1)], ...]


class LayerSweep(Located):
    """Values to try for one weight layer (overriding the global lists)."""

    weights: SweepBits = Field(default=(), description="weight bit-widths to try")
    sparsity: SweepShares = Field(default=(), description="structured sparsities to try")


class SweepSpec(Located):
    """A design-space exploration: the values to try and what makes a design best."""

    weights: SweepBits = Field(default=(), description="weight bit-widths for every weight layer")
    acts: SweepBits = Field(default=(), description="activation bit-widths for every non-bipolar activation")
    sparsity: SweepShares = Field(default=(), description="structured sparsity for every hidden weight layer")
    width: tuple[Annotated[float, Field(gt=0, le=8)], ...] = Field(
        default=(), description="multipliers for the widths of the hidden weight layers")
    layers: dict[str, LayerSweep] = Field(default_factory=dict)
    objective: Literal["energy", "pareto"] = Field(
        default="energy", description="energy: least energy per inference at min_accuracy; pareto: the front")
    min_accuracy: Fraction | None = Field(default=None, description="the accuracy a design must reach")
    trials: int | None = Field(default=None, ge=1, description="number of trials; the whole grid if unset")
    sampler: Literal["auto", "grid", "tpe", "nsga2", "random"] = "auto"
    epochs: int | None = Field(default=None, ge=1, description="epochs per trial; the train block's if unset")
    samples: int | None = Field(default=None, ge=1, description="train on the first N samples per trial")
    seed: int = 0
    early_stop: Literal["auto", "none", "plateau", "median"] = Field(
        default="auto", description="early stopping of hopeless trials on validation accuracy (Optuna pruners): "
        "plateau stops a trial below min_accuracy that stopped improving, median one below the median of "
        "earlier trials at the same epoch; auto is plateau with min_accuracy, none without")
    patience: int | None = Field(default=None, ge=1, description="epochs without improvement (plateau) or of "
                                 "warm-up (median) before a trial can be stopped; a third of each trial's epochs "
                                 "(at least 2) if unset")
    validation: Annotated[float, BeforeValidator(_to_fraction), Field(gt=0, lt=1)] | None = Field(
        default=None, description="share of each trial's training samples held out: trials are chosen and stopped "
        "early on it; the train block's share if unset")

    @property
    def stopping(self) -> str:
        """The early-stopping rule in force: 'auto' resolved."""
        if self.early_stop == "auto":
            return "plateau" if self.min_accuracy is not None else "none"
        return self.early_stop


class Spec(Strict):
    """A whole validated .qnn spec."""

    network: NetworkSpec
    train: TrainSpec
    target: TargetSpec
    sweep: SweepSpec | None = Field(default=None, exclude=True, description="design-space exploration, if any")
    path: str = Field(default="<spec>", exclude=True)

    @property
    def dataset_value(self) -> str | dict:
        """The data as train.py and the loaders name it: a built-in dataset's name, or the user's
        data described for ``qnnc.runtime.user_data`` (its source as written, found from ``folder``)."""
        user = self.train.user_data
        if user is None:
            return self.train.dataset
        values = self.network.input.raw_type.values
        return {"kind": user.kind, "source": user.source, "classes": user.classes,
                "shape": list(self.network.input.shape), "values": [values.start, values.stop - 1] if values else None}

    @property
    def folder(self) -> Path:
        """Where the spec's relative paths start (its file's folder; the current one for text)."""
        return Path(self.path).resolve().parent if self.path != "<spec>" else Path.cwd()
