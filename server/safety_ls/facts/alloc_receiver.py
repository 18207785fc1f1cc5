"""What an allocation's receiver is, and the wrapper that can take it, from the crate's own code.

The receiver's type comes from the code where it says (a typed parameter or
`let`, a struct field, the file's `use` items), else from its name (`stream`).
Which `CudaDevice` it is (candle's, or cudarc's before 0.17), and the paths to
name it by, come from the `use` items and the crate's Cargo.toml. When the
answer is not certain enough to compile, the reason is returned instead.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from tree_sitter import Node

from safety_ls.core.context import FileContext
from safety_ls.core.crate import use_paths
from safety_ls.core.fix_requests import WrapperTarget
from safety_ls.core.parsing import SyntaxUnit
from safety_ls.facts.allocation import WRAPPER_NAMES, AllocationCall
from safety_ls.facts.cuda_dependency import CudaReach, Dependency, cuda_reach

DRIVER_TYPES = ("CudaDevice", "CudaStream", "CudaContext")
_TYPE_IN_TEXT = re.compile(r"((?:\w+::)*)(CudaDevice|CudaStream|CudaContext)\b")
# cudarc 0.17 moved allocation from `CudaDevice` to `CudaStream` (and `CudaDevice` is gone).
_STREAM_API = (0, 17)


@dataclass(frozen=True)
class ReceiverType:
    name: str  # CudaDevice, CudaStream or CudaContext
    module: tuple[str, ...]  # the path the code names it through; () when it does not say


def _declared_in_function(ctx: FileContext, unit: SyntaxUnit, receiver: Node, name: str) -> str | None:
    """The type text of the last `name: T` (parameter or `let`) before the receiver in its function."""
    function = next((node for _, node in unit.ancestors(receiver) if node.type == "function_item"), None)
    if function is None:
        return None
    text = ctx.source.data[unit.start(function) : unit.start(receiver)].decode("utf-8", "replace")
    found = None
    for match in re.finditer(r"(?<![\w$])\$?" + re.escape(name) + r"\s*:\s*([^=;,{)]+)", text):
        found = match.group(1)
    return found


def _impl_type(unit: SyntaxUnit, node: Node) -> str | None:
    impl = next((parent for owner, parent in unit.ancestors(node) if parent.type == "impl_item"), None)
    target = impl.child_by_field_name("type") if impl is not None else None
    return re.split(r"[<\s]", unit.text(target))[0] if target is not None else None


def _declared_type(ctx: FileContext, call: AllocationCall) -> str | None:
    receiver = call.receiver.lstrip("&").strip()
    unit, node = call.receiver_unit, call.receiver_node
    if re.fullmatch(r"\$?\w+", receiver):
        return _impl_type(unit, node) if receiver == "self" else _declared_in_function(ctx, unit, node, receiver.lstrip("$"))
    field = re.fullmatch(r"self\.(\w+)", receiver)
    owner = _impl_type(unit, node) if field else None
    struct = ctx.struct(owner) if owner else None
    if field and struct is not None:
        return next((declared for name, declared in struct.fields if name == field.group(1)), None)
    return None


def _imported_module(ctx: FileContext, name: str) -> tuple[str, ...]:
    # The file's `use` paths, read once per file (mistral.rs's ops.rs asks for each of its 46 allocations).
    key = (__name__, "use paths")
    if key not in ctx.unit.memo:
        ctx.unit.memo[key] = use_paths(ctx.source.data)
    for path in ctx.unit.memo[key]:
        if path[-1] == name:
            return tuple(path[:-1])
    return ()


def receiver_type(ctx: FileContext, call: AllocationCall) -> ReceiverType:
    declared = _declared_type(ctx, call)
    match = _TYPE_IN_TEXT.search(declared) if declared else None
    if match:
        name, module = match.group(2), tuple(part for part in match.group(1).split("::") if part)
    else:
        name, module = ("CudaStream" if "stream" in call.receiver.lower() else "CudaDevice"), ()
    return ReceiverType(name, module or _imported_module(ctx, name))


def _usable(module: tuple[str, ...], reach: CudaReach | None) -> bool:
    """Whether a path the file wrote also resolves from the crate root (where the wrapper may go)."""
    if not module or module[0] in ("self", "super"):
        return False
    return reach is None or reach.knows(module[0])


def _cfg(gate: str | None) -> tuple[str, ...]:
    return (f'feature = "{gate}"',) if gate else ()


def _candle_device(candle: Dependency, reach: CudaReach | None, module: tuple[str, ...]) -> WrapperTarget:
    device = "::".join(module) if _usable(module, reach) and module[0] == candle.name else f"{candle.name}::cuda_backend"
    driver = "cudarc::driver" if candle.name == "crate" else f"{candle.name}::cuda::cudarc::driver"
    return WrapperTarget(WRAPPER_NAMES["device"], f"{device}::CudaDevice", driver, candle.name, _cfg(candle.gate))


def wrapper_target(ctx: FileContext, call: AllocationCall) -> WrapperTarget | str:
    """The wrapper this allocation can be rewritten to, or why none can be written that compiles."""
    found = receiver_type(ctx, call)
    reach = cuda_reach(ctx.crate.root_dir) if ctx.crate is not None else None
    if found.name == "CudaContext":
        return "`CudaContext` does not allocate; allocations go through a `CudaStream`"
    candle = reach.candle if reach is not None else None
    if found.name == "CudaDevice" and "cudarc" not in found.module:
        # Not named through cudarc: candle's device when the crate has candle (or the path says so).
        if candle is None and found.module[:1] and found.module[0].startswith("candle"):
            candle = Dependency(found.module[0], None, None)
        if candle is not None:
            return _candle_device(candle, reach, found.module)
    cudarc = reach.cudarc if reach is not None else None
    if _usable(found.module, reach):
        driver = "::".join(found.module)
    elif cudarc is not None:
        driver = f"{cudarc.name}::driver"
    elif reach is not None and reach.candle is not None and reach.candle.name != "crate":
        driver = f"{reach.candle.name}::cuda::cudarc::driver"
    else:
        return f"cannot tell how this crate names `{found.name}` (no `use` of it and no cudarc dependency)"
    version = cudarc.version if cudarc is not None and driver.startswith(cudarc.name) else None
    if found.name == "CudaDevice" and version is not None and version >= _STREAM_API:
        return "cudarc 0.17+ has no `CudaDevice`; the receiver's type could not be read from the code"
    form = "stream" if found.name == "CudaStream" else "device"
    gate = cudarc.gate if cudarc is not None and driver.startswith(cudarc.name) else (
        reach.candle.gate if reach is not None and reach.candle is not None else None
    )
    return WrapperTarget(WRAPPER_NAMES[form], f"std::sync::Arc<{driver}::{found.name}>", driver, None, _cfg(gate))
