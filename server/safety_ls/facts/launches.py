"""Kernel launch sites read from the syntax tree: which kernel, with which arguments and block size.

Forms recognised (each is an unsafe call, so only sites in unsafe code count,
which keeps `app.launch()` of a web framework out):
- cudarc: `func.launch(cfg, (a, b))`, with a turbofish `func.launch::<P>(cfg, params)`;
- builders: `stream.launch_builder(&f).arg(&a).launch(cfg)`, and candle's
  `builder.launch(cfg)` after `builder.arg(..)` statements or `builder_arg!(builder, ..)`;
- cust: `launch!(module.kernel<<<grid, block, shared, stream>>>(args))`;
- the driver and HIP APIs: `cuLaunchKernel`, `cuLaunchCooperativeKernel`, `hipModuleLaunchKernel`,
  `hipLaunchKernel`, `cudaLaunchKernel`, called by name, path, field (`(cu.cuLaunchKernel)(..)`)
  or method (`lib.cuLaunchKernel(..)`, cudarc's dynamically loaded sys);
- FFI launchers matched by glob patterns on the called path (`ffi::launch_*` built in).

The kernel's name is resolved where the function shows it: the handle's
binding (`let f = dev.get_func("module", "name")`, `load_function("name")`,
a call with a string literal), a struct field initialised that way
(`self.matmul`), a builder's `launch_builder(&f)`, or the FFI function's own
name. Arguments, block size and dynamic shared memory are read the same way.
Everything here is a pure function over `SyntaxUnit`s.
"""

from __future__ import annotations

import fnmatch
import math
import re
from bisect import bisect_left
from dataclasses import dataclass, field
from functools import lru_cache

from tree_sitter import Node, QueryCursor

from safety_ls.core.parsing import SyntaxUnit, captures, query
from safety_ls.core.triggers import UNSAFE, word
from safety_ls.facts.kernel_families import DTYPE_SUFFIXES

# Every launch form is an unsafe call, so a file without `unsafe` has no launch site.
LAUNCH_TRIGGER = UNSAFE

DEFAULT_LAUNCH_PATTERNS = ("ffi::launch_*",)
# cudarc's `LaunchConfig::for_num_elems` uses blocks of this many threads.
FOR_NUM_ELEMS_BLOCK = "1024"


@dataclass(frozen=True)
class DriverLayout:
    """Where a driver-style launcher takes the kernel, block size, shared memory and parameters."""

    handle: int
    block: tuple[int, ...]
    shared_memory: int
    parameters: int


_CU_LAYOUT = DriverLayout(handle=0, block=(4, 5, 6), shared_memory=7, parameters=9)
_RUNTIME_LAYOUT = DriverLayout(handle=0, block=(2,), shared_memory=4, parameters=3)
DRIVER_LAUNCHERS: dict[str, tuple[str, DriverLayout]] = {
    "cuLaunchKernel": ("driver", _CU_LAYOUT),
    "cuLaunchCooperativeKernel": ("driver", _CU_LAYOUT),
    "hipModuleLaunchKernel": ("hip", _CU_LAYOUT),
    "hipLaunchKernel": ("hip", _RUNTIME_LAYOUT),
    "cudaLaunchKernel": ("runtime", _RUNTIME_LAYOUT),
}
# What a launch's text can contain: `.launch(`, `launch!`, a driver launcher's name.
_CANDIDATES = re.compile(word("launch", *DRIVER_LAUNCHERS) + rb"\b")


@dataclass(frozen=True)
class LaunchSite:
    form: str  # cudarc, builder, cust, driver, hip, runtime, ffi
    kernel: str | None
    arguments: tuple[str, ...] | None  # None: not visible from the call
    block: tuple[str, ...] | None  # the block dimensions as written
    shared_memory: str | None  # dynamic shared memory bytes as written
    function: str | None  # the enclosing fn
    block_threads: int | None  # threads per block, when every dimension is a known constant
    shared_memory_bytes: int | None  # dynamic shared memory, when a known constant
    unit: SyntaxUnit = field(compare=False, repr=False)
    node: Node = field(compare=False, repr=False)  # the whole call or macro invocation
    name_node: Node = field(compare=False, repr=False)  # `launch`, `cuLaunchKernel`, ...: where findings point
    # The innermost enclosing unsafe block, with its unit (the code around a macro may hold it).
    unsafe_block: tuple[SyntaxUnit, Node] | None = field(compare=False, repr=False)

    @property
    def start(self) -> int:
        return self.unit.start(self.name_node)

    @property
    def end(self) -> int:
        return self.unit.end(self.name_node)

    @property
    def span(self) -> tuple[int, int]:
        """File offsets of the whole call: the lines a debugger attributes to the launch."""
        return self.unit.start(self.node), self.unit.end(self.node)

    @property
    def launches_kernel_directly(self) -> bool:
        """False for FFI launchers: a host function whose own parameters are not the kernel's."""
        return self.form != "ffi"


# --- finding sites ------------------------------------------------------------------------


def find_launches(
    unit: SyntaxUnit, patterns: tuple[str, ...] = (), region: tuple[int, int] | None = None
) -> list[LaunchSite]:
    """Launch sites in `unit` and its macro fragments, in file order (those starting in `region`, if given)."""
    found: dict[int, LaunchSite] = {}
    every_pattern = DEFAULT_LAUNCH_PATTERNS + tuple(patterns)
    ffi = _ffi_pattern(every_pattern)
    # Each launcher's text holds one of these words: most files hold none and are done at C speed.
    words = (b"aunch", *_literals(every_pattern))
    for current in unit.walk_units():
        low, high = current.user_start, current.user_end
        if region is not None:
            low, high = max(low, region[0] - current.shift), min(high, region[1] - current.shift)
        if low >= high or not any(current.data.find(word, low, high) >= 0 for word in words):
            continue
        for match in _CANDIDATES.finditer(current.data, low, high):
            site = _site_at(current, match.start(), match.end())
            if site is not None:
                found.setdefault(site.start, site)
        for match in ffi.finditer(current.data, low, high):
            site = _ffi_site_at(current, match.end(), patterns)
            if site is not None:
                found.setdefault(site.start, site)
    return [found[start] for start in sorted(found)]


@lru_cache(maxsize=32)
def _literals(patterns: tuple[str, ...]) -> tuple[bytes, ...]:
    """The longest plain word of each launcher pattern (`kernels::run_*` -> `kernels`)."""
    words = []
    for pattern in patterns:
        pieces = re.findall(r"\w+", pattern.replace("*", " ").replace("?", " "))
        if pieces:
            words.append(max(pieces, key=len).encode())
    return tuple(words)


def _site_at(unit: SyntaxUnit, start: int, end: int) -> LaunchSite | None:
    token = unit.root.descendant_for_byte_range(start, end)
    if token is None or unit.is_synthetic(token) or token.parent is None:
        return None
    text = unit.text(token)
    parent = token.parent
    if text == "launch":
        if token.type == "identifier" and parent.type == "macro_invocation":
            return _cust_site(unit, parent, token)
        if token.type == "identifier" and parent.type == "scoped_identifier" and parent.parent is not None:
            if parent.parent.type == "macro_invocation" and _is_field(parent, "name", token):
                return _cust_site(unit, parent.parent, token)
            return None
        if token.type == "field_identifier" and parent.type == "field_expression":
            call = _call_of(parent)
            if call is not None:
                return _method_site(unit, call, parent, token)
        return None
    if text in DRIVER_LAUNCHERS and token.type in ("identifier", "field_identifier"):
        callee = _callee_around(token)
        call = _call_of(callee) if callee is not None else None
        if call is not None:
            return _driver_site(unit, call, token, text)
    return None


def _is_field(parent: Node, name: str, child: Node) -> bool:
    found = parent.child_by_field_name(name)
    return found is not None and found.id == child.id


def _callee_around(token: Node) -> Node | None:
    """The whole callee expression ending in `token`: `sys::cuLaunchKernel`, `(cu.cuLaunchKernel)`."""
    current = token
    while current.parent is not None:
        parent = current.parent
        if parent.type == "scoped_identifier" and _is_field(parent, "name", current):
            current = parent
        elif parent.type == "field_expression" and _is_field(parent, "field", current):
            current = parent
        elif parent.type in ("parenthesized_expression", "generic_function"):
            current = parent
        else:
            break
    return current


def _call_of(callee: Node) -> Node | None:
    """The call expression whose function is `callee` (through a turbofish), if any."""
    parent = callee.parent
    if parent is not None and parent.type == "generic_function" and _is_field(parent, "function", callee):
        callee, parent = parent, parent.parent
    if parent is not None and parent.type == "call_expression" and _is_field(parent, "function", callee):
        return parent
    return None


def call_arguments(call: Node) -> list[Node]:
    arguments = call.child_by_field_name("arguments")
    if arguments is None:
        return []
    return [child for child in arguments.named_children if child.type not in ("line_comment", "block_comment")]


def _unsafe_context(
    unit: SyntaxUnit, node: Node
) -> tuple[bool, tuple[SyntaxUnit, Node] | None, tuple[SyntaxUnit, Node] | None]:
    """(in unsafe code, the innermost enclosing unsafe block, the enclosing fn item), each with its unit."""
    block = None
    for owner, ancestor in unit.ancestors(node):
        if ancestor.type == "unsafe_block" and block is None:
            block = (owner, ancestor)
        if ancestor.type in ("function_item", "function_signature_item"):
            modifiers = next((c for c in ancestor.children if c.type == "function_modifiers"), None)
            unsafe_fn = modifiers is not None and any(c.type == "unsafe" for c in modifiers.children)
            return block is not None or unsafe_fn, block, (owner, ancestor)
    return block is not None, block, None


def _function_name(function: tuple[SyntaxUnit, Node] | None) -> str | None:
    if function is None:
        return None
    owner, item = function
    name = item.child_by_field_name("name")
    return owner.text(name) if name is not None else None


# --- the forms ----------------------------------------------------------------------------


def _method_site(unit: SyntaxUnit, call: Node, callee: Node, name: Node) -> LaunchSite | None:
    arguments = call_arguments(call)
    if len(arguments) not in (1, 2):
        return None
    unsafe, block, function = _unsafe_context(unit, call)
    if not unsafe:
        return None
    scope = Scope.of(unit, function, call)
    receiver = callee.child_by_field_name("value")
    config = _launch_config(scope, arguments[0])
    if len(arguments) == 2:  # cudarc: func.launch(cfg, params)
        form = "cudarc"
        kernel = scope.kernel_of(receiver) if receiver is not None else None
        launch_arguments = scope.tuple_items(arguments[1])
    else:  # a builder: the arguments were pushed with `.arg(..)`
        form = "builder"
        kernel, launch_arguments = scope.builder(receiver) if receiver is not None else (None, None)
    block_dims, shared = config if config is not None else (None, None)
    return _site(form, kernel, launch_arguments, block_dims, shared, function, unit, call, name, block, scope)


_CUST_CALL = re.compile(r"^\s*(?P<target>[\w.:]+)\s*<<<(?P<config>.*?)>>>\s*\((?P<arguments>.*)\)\s*$", re.S)


def _cust_site(unit: SyntaxUnit, invocation: Node, name: Node) -> LaunchSite | None:
    unsafe, block, function = _unsafe_context(unit, invocation)
    if not unsafe:
        return None
    body = next((child for child in invocation.children if child.type == "token_tree"), None)
    if body is None:
        return None
    match = _CUST_CALL.match(unit.text(body)[1:-1])
    if match is None:
        return None
    scope = Scope.of(unit, function, invocation)
    config = split_top_level(match.group("config"))
    block_dims = _dimensions(config[1]) if len(config) > 1 else None
    shared = config[2] if len(config) > 2 else None
    kernel = match.group("target").replace("::", ".").split(".")[-1]
    arguments = tuple(split_top_level(match.group("arguments")))
    return _site("cust", kernel, arguments, block_dims, shared, function, unit, invocation, name, block, scope)


def _driver_site(unit: SyntaxUnit, call: Node, name: Node, launcher: str) -> LaunchSite | None:
    unsafe, block, function = _unsafe_context(unit, call)
    if not unsafe:
        return None
    form, layout = DRIVER_LAUNCHERS[launcher]
    arguments = call_arguments(call)
    scope = Scope.of(unit, function, call)

    def argument(index: int) -> Node | None:
        return arguments[index] if index < len(arguments) else None

    handle = argument(layout.handle)
    kernel = scope.kernel_of(handle) if handle is not None else None
    block_nodes = [argument(index) for index in layout.block]
    block_dims: tuple[str, ...] | None = None
    if all(node is not None for node in block_nodes):
        texts = tuple(unit.text(node) for node in block_nodes if node is not None)
        block_dims = texts if len(texts) > 1 else _dimensions(texts[0])
    shared_node = argument(layout.shared_memory)
    parameters = argument(layout.parameters)
    launch_arguments = scope.parameter_array(parameters) if parameters is not None else None
    shared = unit.text(shared_node) if shared_node is not None else None
    return _site(form, kernel, launch_arguments, block_dims, shared, function, unit, call, name, block, scope)


@lru_cache(maxsize=32)
def _ffi_pattern(patterns: tuple[str, ...]) -> re.Pattern[bytes]:
    """Text that may be a call to a configured launcher; each glob segment is a word pattern."""
    alternatives = []
    for pattern in patterns:
        segments = [re.escape(segment).replace(r"\*", r"\w*").replace(r"\?", r"\w") for segment in pattern.split("::")]
        alternatives.append(r"\s*::\s*".join(segments))
    return re.compile((r"\b(?:" + "|".join(alternatives) + r")\b").encode())


def _ffi_site_at(unit: SyntaxUnit, end: int, patterns: tuple[str, ...]) -> LaunchSite | None:
    token = unit.root.descendant_for_byte_range(end - 1, end)
    if token is None or token.type != "identifier" or unit.is_synthetic(token):
        return None
    callee = _callee_around(token)
    call = _call_of(callee) if callee is not None else None
    if call is None or callee is None:
        return None
    path = re.sub(r"\s+", "", unit.text(callee))
    if not any(fnmatch.fnmatchcase(path, p) or fnmatch.fnmatchcase(path, "*::" + p) for p in DEFAULT_LAUNCH_PATTERNS + patterns):
        return None
    unsafe, block, function = _unsafe_context(unit, call)
    if not unsafe:
        return None
    scope = Scope.of(unit, function, call)
    arguments = tuple(unit.text(node) for node in call_arguments(call))
    name = path.split("::")[-1]
    return _site("ffi", name, arguments, None, None, function, unit, call, callee, block, scope)


def _site(
    form: str,
    kernel: str | None,
    arguments: tuple[str, ...] | None,
    block: tuple[str, ...] | None,
    shared: str | None,
    function: tuple[SyntaxUnit, Node] | None,
    unit: SyntaxUnit,
    node: Node,
    name: Node,
    unsafe_block: tuple[SyntaxUnit, Node] | None,
    scope: "Scope",
) -> LaunchSite:
    threads = None
    if block is not None:
        values = [scope.constant(item) for item in block]
        if all(value is not None for value in values):
            threads = math.prod(value for value in values if value is not None)
    return LaunchSite(
        form=form,
        kernel=kernel,
        arguments=arguments,
        block=block,
        shared_memory=shared,
        function=_function_name(function),
        block_threads=threads,
        shared_memory_bytes=scope.constant(shared) if shared is not None else None,
        unit=unit,
        node=node,
        name_node=name,
        unsafe_block=unsafe_block,
    )


# --- reading the function around a launch -------------------------------------------------

_GET_FUNC = re.compile(r"\bget_func\s*\(\s*[^,()]+,\s*(?:c|b)?\"(\w+)(?:\\0)?\"")
_NAMED_FUNCTION = re.compile(r"\b(?:load_function|get_function|get_kernel|function)\s*\(\s*(?:c|b)?\"(\w+)(?:\\0)?\"")
_KERNEL_NAME_HELPER = re.compile(r"\bkernel_name\s*::\s*<\s*(?:\w+::)*(?P<type>\w+)\s*>\s*\(\s*\"(?P<stem>\w+)\"")
_KERNEL_NAME_VARIABLE = re.compile(r"\bkernel_name\s*::\s*<\s*(?:\w+::)*(?P<type>\w+)\s*>\s*\(\s*(?P<name>\w+)\s*\)")
_FORMAT_STRING = re.compile(r"^\s*format!\s*\(\s*\"([^\"]*)\"")
_MAX_CHOICES = 64
_FORMATTED_NAME = re.compile(r"\bformat!\s*\(\s*\"([\w{}:?]*\{[\w{}:?]*)\"")
_STRING_NAME = re.compile(r"(?<![\w\"])(?:c|b)?\"([A-Za-z_]\w*)(?:\\0)?\"")
_MODULE_GET_FUNCTION = ("cuModuleGetFunction", "hipModuleGetFunction", "cuLibraryGetKernel")
# Query texts, compiled on first use (`query` caches them): compiling at import would slow every command's start.
_BINDINGS = (
    """
    (let_declaration pattern: (identifier) @name value: (_) @value)
    (let_declaration pattern: (tuple_pattern) @tuple value: (tuple_expression) @values)
    (assignment_expression left: (identifier) @name right: (_) @value)
    """
)
_FIELD_INITIALIZERS = "(field_initializer field: (field_identifier) @field value: (_) @value)"
_CALLS = "(call_expression) @call"
_MACROS = "(macro_invocation) @macro"
_FUNCTIONS = "(function_item) @function"
_LETS = "(let_declaration) @let"
_MATCH_ARMS = "(match_arm) @arm"
_INTEGER = re.compile(r"^(0x[0-9a-fA-F_]+|0o[0-7_]+|0b[01_]+|[0-9][0-9_]*)(?:[iu](?:8|16|32|64|128|size))?$")
_CONSTANT = r"\b(?:pub(?:\([^)]*\))?\s+)?const\s+{name}\s*:\s*\w+\s*=\s*([0-9][0-9_xXa-fA-F]*(?:[iu](?:8|16|32|64|128|size))?)\s*;"
_MAX_DEPTH = 6


def split_top_level(text: str) -> list[str]:
    """Comma-separated items of `text` outside brackets and string literals, stripped, empty ones dropped."""
    items, depth, current, quoted = [], 0, [], False
    previous = ""
    for char in text:
        if quoted:
            quoted = not (char == '"' and previous != "\\")
        elif char == '"':
            quoted = True
        elif char in "([{":
            depth += 1
        elif char in ")]}":
            depth -= 1
        elif char == "<" and previous not in " =" and depth >= 0:
            depth += 1  # generics, not less-than: `Vec<u8>` but `a < b` has a space before
        elif char == ">" and previous not in " -=" and depth > 0:
            depth -= 1
        if char == "," and depth == 0 and not quoted:
            items.append("".join(current).strip())
            current = []
        else:
            current.append(char)
        previous = char
    items.append("".join(current).strip())
    return [item for item in items if item]


def _dimensions(text: str) -> tuple[str, ...]:
    """`(x, y, z)`, `dim3(x, y, z)`, `Dim3 { x, y, z }` or a scalar, as its items."""
    inner = re.fullmatch(r"\s*(?:\w+\s*)?[({](.*)[)}]\s*", text, re.S)
    if inner is None:
        return (text.strip(),)
    items = [re.sub(r"^\w+\s*:\s*", "", item) for item in split_top_level(inner.group(1))]
    return tuple(items) or (text.strip(),)


def _argument_name(text: str) -> str:
    """What a kernel-parameter array slot points at: `&mut a as *mut _ as *mut c_void` -> `a`."""
    match = re.match(r"^\(?\s*&\s*(?:raw\s+(?:mut|const)\s+|mut\s+)?([\w.]+)", text)
    return match.group(1) if match else text


@dataclass
class Scope:
    """The code around a launch, read for what was bound before it.

    That is the enclosing function; for a launch written inside a macro's
    arguments, the macro's own tokens (bindings outside them are not followed).
    """

    unit: SyntaxUnit
    body: Node
    before: int  # offsets in `unit` before this were written before the launch

    @classmethod
    def of(cls, unit: SyntaxUnit, function: tuple[SyntaxUnit, Node] | None, site: Node) -> "Scope":
        if function is not None and function[0] is unit:
            return cls(unit, function[1], site.start_byte)
        return cls(unit, unit.root, site.start_byte)

    def text(self, node: Node) -> str:
        return self.unit.text(node)

    @property
    def _index(self) -> "_BodyIndex":
        return _BodyIndex.of(self.unit, self.body)

    def _binding(self, name: str) -> tuple[SyntaxUnit, Node] | None:
        """The value last bound to `name` before the launch (`let name = value`, `name = value`)."""
        value = self._index.binding(name, self.before)
        return (self.unit, value) if value is not None else None

    def _field(self, name: str) -> Node | None:
        """The value a struct literal in this file gives field `name` (`Self { name: value }`)."""
        fields = self.unit.memo.get((__name__, "fields"))
        if fields is None:
            fields = self.unit.memo[__name__, "fields"] = {}
            for _, found in QueryCursor(query(_FIELD_INITIALIZERS)).matches(self.unit.root):
                fields.setdefault(self.text(found["field"][0]), found["value"][0])
        return fields.get(name)

    def _value(self, node: Node, depth: int) -> tuple[str, Node] | None:
        """What an identifier or `self.field` stands for: ('binding' | 'field', its value)."""
        node = _unwrap(node)
        if depth >= _MAX_DEPTH:
            return None
        if node.type == "identifier":
            bound = self._binding(self.text(node))
            return ("binding", bound[1]) if bound is not None else None
        if node.type == "field_expression":
            value, member = node.child_by_field_name("value"), node.child_by_field_name("field")
            if value is not None and member is not None and self.text(value) == "self":
                initializer = self._field(self.text(member))
                return ("field", initializer) if initializer is not None else None
        return None

    def kernel_of(self, handle: Node, depth: int = 0) -> str | None:
        """The kernel a function handle names, where the code shows it."""
        text = self.text(handle)
        if built := _built_name(text):
            return built
        for pattern in (_GET_FUNC, _NAMED_FUNCTION):
            if match := pattern.search(text):
                return match.group(1)
        inner = _unwrap(handle)
        if inner.type == "call_expression":
            function = inner.child_by_field_name("function")
            method = function.child_by_field_name("field") if function is not None and function.type == "field_expression" else None
            if method is not None and self.text(method) == "launch_builder" and call_arguments(inner):
                return self.kernel_of(call_arguments(inner)[0], depth + 1)
            if method is not None and self.text(method) == "builder" and function is not None:
                receiver = function.child_by_field_name("value")
                return self.kernel_of(receiver, depth + 1) if receiver is not None else None
        resolved = self._value(handle, depth)
        if resolved is not None and depth < _MAX_DEPTH and (named := self.kernel_of(resolved[1], depth + 1)):
            return named
        if inner.type == "identifier":
            return self._out_parameter_kernel(self.text(inner), depth)
        if match := _STRING_NAME.search(text):
            return match.group(1)
        return self._chosen_name(inner)

    def _chosen_name(self, call: Node) -> str | None:
        """A loader called with a name variable chosen among literals (`let name = match op { Sum =>
        "fast_sum", .. }`, then `get_or_load_func(&kernel_name::<T>(name), ..)`): the alternatives, `|`-joined."""
        if call.type != "call_expression" or not call_arguments(call):
            return None
        argument = _unwrap(call_arguments(call)[0])
        helper = _KERNEL_NAME_VARIABLE.fullmatch(self.text(argument))
        variable = helper.group("name") if helper else self.text(argument)
        if not re.fullmatch(r"[A-Za-z_]\w*", variable):
            return None
        literals = self._literal_choices(variable)
        if not literals:
            return None
        suffix = DTYPE_SUFFIXES.get(helper.group("type")) if helper else None
        return "|".join(f"{literal}_{suffix}" if suffix else literal for literal in literals)

    def _literal_choices(self, variable: str) -> list[str] | None:
        """The string literals `variable` can hold, when its `let` (plain or tuple pattern) shows them all."""
        latest = self._index.latest_let(variable, self.before)
        if latest is None:
            return None
        start, value, position = latest
        formatted = self._formatted_choices(value, start) if position is None else None
        return formatted or _literals_of(self.unit, value, position)

    def _formatted_choices(self, value: Node, at: int) -> list[str] | None:
        """`format!("{kernel_name}{b_size}")` where `kernel_name` was chosen among literals before `at`:
        each choice with the other holes as `*` (`mul_mat_vec_q4_0_q8_1_cuda*`)."""
        match = _FORMAT_STRING.search(self.text(value)) if value.type == "macro_invocation" else None
        if match is None:
            return None
        choices = [""]
        for piece in re.split(r"(\{[^{}]*\})", match.group(1)):
            hole = re.fullmatch(r"\{(\w+)\}", piece)
            known = Scope(self.unit, self.body, at)._literal_choices(hole.group(1)) if hole else None
            options = known if known else (["*"] if piece.startswith("{") else [piece])
            choices = [choice + option for choice in choices for option in options][:_MAX_CHOICES]
        named = [choice for choice in choices if len(choice.replace("*", "").strip("_")) >= 3]
        return named if len(named) == len(choices) else None

    def _out_parameter_kernel(self, name: str, depth: int) -> str | None:
        """`cuModuleGetFunction(&mut f, module, c"name".as_ptr())` fills `f` with kernel `name`."""
        for call in self._index.function_loads(self.before):
            arguments = call_arguments(call)
            if len(arguments) >= 3 and re.search(r"\b" + re.escape(name) + r"\b", self.unit.text(arguments[0])):
                named = arguments[2]
                if match := _STRING_NAME.search(self.unit.text(named)):
                    return match.group(1)
                resolved = self._value(named, depth + 1)
                if resolved is not None and (match := _STRING_NAME.search(self.unit.text(resolved[1]))):
                    return match.group(1)
        return None

    def tuple_items(self, node: Node, depth: int = 0) -> tuple[str, ...] | None:
        """The elements of a parameter tuple, followed through a binding."""
        inner = _unwrap(node)
        if inner.type == "tuple_expression":
            return tuple(self.text(child) for child in inner.named_children if "comment" not in child.type)
        if inner.type in ("parenthesized_expression",) or inner.type.endswith("_literal"):
            return (self.text(inner),)
        resolved = self._value(inner, depth)
        if resolved is not None and depth < _MAX_DEPTH:
            return self.tuple_items(resolved[1], depth + 1)
        return None

    def parameter_array(self, node: Node, depth: int = 0) -> tuple[str, ...] | None:
        """The slots of a `void**` kernel-parameter array (`params.as_mut_ptr()`), by what they point at."""
        text = self.text(node).strip()
        if re.fullmatch(r"(?:(?:std::)?ptr::)?null(?:_mut)?\(\)", text):
            return ()
        inner = _strip_pointer_conversions(node)
        if inner.type == "array_expression":
            return tuple(_argument_name(self.text(child)) for child in inner.named_children if "comment" not in child.type)
        if inner.type == "macro_invocation" and self.text(inner).startswith("vec!"):
            body = next((c for c in inner.children if c.type == "token_tree"), None)
            if body is not None:
                return tuple(_argument_name(item) for item in split_top_level(self.text(body)[1:-1]))
        resolved = self._value(inner, depth)
        if resolved is not None and depth < _MAX_DEPTH:
            return self.parameter_array(resolved[1], depth + 1)
        return None

    def builder(self, receiver: Node) -> tuple[str | None, tuple[str, ...] | None]:
        """(kernel, arguments) of a launch builder: a `.arg(..)` chain, or a builder variable."""
        pushed: list[tuple[int, str]] = []
        current = _unwrap(receiver)
        while True:
            method, target, arguments = _method_call(current)
            if method not in ("arg", "args") or target is None:
                break
            pushed.extend((node.start_byte, self.text(node)) for node in arguments)
            current = _unwrap(target)
        if current.type == "identifier":
            name = self.text(current)
            bound = self._binding(name)
            if bound is None:
                return None, None
            statements = self._pushed_arguments(name, bound[1].start_byte)
            if statements is None:
                return self.kernel_of(bound[1]), None
            pushed.extend(statements)
            return self.kernel_of(bound[1]), tuple(text for _, text in sorted(pushed))
        return self.kernel_of(current), tuple(text for _, text in sorted(pushed))

    def _pushed_arguments(self, builder: str, since: int) -> list[tuple[int, str]] | None:
        """`builder.arg(x)` calls and `builder_arg!(builder, ..)` between the binding and the launch.

        None when one sits in a loop or closure: the count is then not visible.
        """
        pushed: list[tuple[int, str]] = []
        calls = self._index.between(_CALLS, "call", since, self.before)
        for call in calls:
            method, target, arguments = _method_call(call)
            if method not in ("arg", "args") or target is None:
                continue
            head = _unwrap(target)
            while (inner := _method_call(head))[0] in ("arg", "args") and inner[1] is not None:
                head = _unwrap(inner[1])
            if head.type == "identifier" and self.unit.text(head) == builder and head.start_byte == call.start_byte:
                if _repeats(self.unit, call, self.body, since):
                    return None
                pushed.extend((node.start_byte, self.unit.text(node)) for node in arguments)
        for call in calls:
            if _method_call(call)[0] in ("arg", "args"):
                continue
            if any(re.fullmatch(r"&\s*mut\s+" + re.escape(builder), self.unit.text(a)) for a in call_arguments(call)):
                count = self._helper_pushes(call)  # `ds.builder_arg(&mut builder)` pushes what its body pushes
                if count is None or _repeats(self.unit, call, self.body, since):
                    return None
                pushed.extend((call.start_byte + index, f"{self.unit.text(call)}#{index + 1}") for index in range(count))
        pushing_macros = _argument_macros(self._file())
        for invocation in self._index.between(_MACROS, "macro", since, self.before):
            macro = invocation.child_by_field_name("macro")
            if macro is None or self.unit.text(macro).split("::")[-1] not in pushing_macros:
                continue
            body = next((c for c in invocation.children if c.type == "token_tree"), None)
            items = split_top_level(self.unit.text(body)[1:-1]) if body is not None else []
            if items and items[0] == builder:
                if _repeats(self.unit, invocation, self.body, since):
                    return None
                pushed.extend((invocation.start_byte + index, item) for index, item in enumerate(items[1:]))
        return pushed

    def _file(self) -> SyntaxUnit:
        root = self.unit
        while root.parent is not None:
            root = root.parent
        return root

    def _helper_pushes(self, call: Node) -> int | None:
        """How many arguments the helper `call` pushes onto a builder: the same in every `fn` of that name
        in this file and in every arm of its `match`, or None."""
        function = call.child_by_field_name("function")
        if function is not None and function.type == "field_expression":
            function = function.child_by_field_name("field")
        if function is None:
            return None
        name = self.unit.text(function).split("::")[-1]
        file = self._file()
        counts = {_pushes_in(file, body) for body in _function_bodies(file).get(name, ())}
        return counts.pop() if len(counts) == 1 else None

    def constant(self, text: str) -> int | None:
        """An integer literal, or a `const NAME: T = literal;` of this file."""
        text = text.strip()
        value = _integer(text)
        if value is not None:
            return value
        if re.fullmatch(r"[A-Z_][A-Z0-9_]*", text):
            root = self._file()
            key = (__name__, "constant", text)
            if key not in root.memo:  # each launch of a file asks for its BLOCK_SIZE again
                match = re.search(_CONSTANT.format(name=re.escape(text)).encode(), root.data)
                root.memo[key] = _integer(match.group(1).decode()) if match else None
            return root.memo[key]
        return None


class _BodyIndex:
    """What the launches of one function look up, found by one query over its body and kept with
    the unit: each launch queried the whole body again (400 launches in one function: 13.5 s)."""

    def __init__(self, unit: SyntaxUnit, body: Node) -> None:
        self.unit, self.body = unit, body
        self._found: dict[str, tuple[list[int], list[Node]]] = {}
        self._bindings: dict[str, list[tuple[int, int, Node]]] | None = None
        self._lets: dict[str, tuple[list[int], list[tuple[int, Node, int | None]]]] | None = None
        self._loads: tuple[list[int], list[Node]] | None = None

    @classmethod
    def of(cls, unit: SyntaxUnit, body: Node) -> "_BodyIndex":
        key = (__name__, "body", body.id)
        index = unit.memo.get(key)
        if index is None:
            index = unit.memo[key] = cls(unit, body)
        return index

    def _captured(self, pattern: str, capture: str) -> tuple[list[int], list[Node]]:
        if pattern not in self._found:
            nodes = captures(query(pattern), self.body).get(capture, [])
            self._found[pattern] = ([node.start_byte for node in nodes], nodes)
        return self._found[pattern]

    def between(self, pattern: str, capture: str, low: int, high: int) -> list[Node]:
        """The query's captures starting in [low, high), in document order."""
        starts, nodes = self._captured(pattern, capture)
        return nodes[bisect_left(starts, low) : bisect_left(starts, high)]

    def binding(self, name: str, before: int) -> Node | None:
        """The value of the last `let`/assignment of `name` whose value starts before `before`."""
        if self._bindings is None:
            self._bindings = self._index_bindings()
        entries = self._bindings.get(name, [])
        # A pattern comes before its value: only those starting before `before` can qualify.
        position = bisect_left(entries, before, key=lambda entry: entry[0])
        while position > 0:
            position -= 1
            _, value_start, value = entries[position]
            if value_start < before:
                return value
        return None

    def _index_bindings(self) -> dict[str, list[tuple[int, int, Node]]]:
        by_name: dict[str, list[tuple[int, int, Node]]] = {}
        for _, found in QueryCursor(query(_BINDINGS)).matches(self.body):
            if "name" in found:
                pattern, value = found["name"][0], found["value"][0]
                by_name.setdefault(self.unit.text(pattern), []).append((pattern.start_byte, value.start_byte, value))
                continue
            pattern, values = found["tuple"][0], found["values"][0]
            names = [re.sub(r"^(?:ref\s+)?(?:mut\s+)?", "", self.unit.text(p)) for p in pattern.named_children]
            items = values.named_children
            if len(names) == len(items):
                for name in dict.fromkeys(names):
                    by_name.setdefault(name, []).append((pattern.start_byte, values.start_byte, items[names.index(name)]))
        for entries in by_name.values():
            entries.sort(key=lambda entry: entry[0])
        return by_name

    def latest_let(self, variable: str, before: int) -> tuple[int, Node, int | None] | None:
        """(start, value, tuple position or None) of the last `let` binding `variable` that starts before `before`."""
        if self._lets is None:
            self._lets = {}
            for declaration in self._captured(_LETS, "let")[1]:
                pattern, value = declaration.child_by_field_name("pattern"), declaration.child_by_field_name("value")
                if pattern is None or value is None:
                    continue
                if pattern.type == "identifier":
                    bound = [(self.unit.text(pattern), None)]
                elif pattern.type == "tuple_pattern":
                    names = [self.unit.text(p) for p in pattern.named_children]
                    bound = [(name, names.index(name)) for name in dict.fromkeys(names)]
                else:
                    continue
                for name, position in bound:
                    starts, lets = self._lets.setdefault(name, ([], []))
                    starts.append(declaration.start_byte)
                    lets.append((declaration.start_byte, value, position))
        starts, lets = self._lets.get(variable, ([], []))
        index = bisect_left(starts, before)
        return lets[index - 1] if index else None

    def function_loads(self, before: int) -> list[Node]:
        """The calls of `cuModuleGetFunction` and the like that start before `before`, in document order."""
        if self._loads is None:
            starts, loads = [], []
            for call in self._captured(_CALLS, "call")[1]:
                function = call.child_by_field_name("function")
                if function is not None and self.unit.text(function).endswith(_MODULE_GET_FUNCTION):
                    starts.append(call.start_byte)
                    loads.append(call)
            self._loads = (starts, loads)
        starts, loads = self._loads
        return loads[: bisect_left(starts, before)]


def _function_bodies(file: SyntaxUnit) -> dict[str, list[Node]]:
    """The body of every `fn` in the file, by name, found once per file (candle asks for them at each
    helper call that pushes launch arguments)."""
    if (__name__, "bodies") not in file.memo:
        bodies: dict[str, list[Node]] = {}
        for item in captures(query(_FUNCTIONS), file.root).get("function", []):
            name = item.child_by_field_name("name")
            body = item.child_by_field_name("body")
            if name is not None and body is not None:
                bodies.setdefault(file.text(name), []).append(body)
        file.memo[__name__, "bodies"] = bodies
    return file.memo[__name__, "bodies"]


def _pushes_in(unit: SyntaxUnit, body: Node) -> int | None:
    """`.arg(..)` calls a helper's body makes on every path: the same count in each `match` arm, no
    loops (counted once per file: every launch that calls the helper asks)."""
    key = (__name__, "pushes", body.id)
    if key not in unit.memo:
        unit.memo[key] = _count_pushes(unit, body)
    return unit.memo[key]


def _count_pushes(unit: SyntaxUnit, body: Node) -> int | None:
    calls = [c for c in captures(query(_CALLS), body).get("call", []) if _method_call(c)[0] == "arg"]
    if any(_repeats(unit, call, body) for call in calls):
        return None
    arms = captures(query(_MATCH_ARMS), body).get("arm", [])
    if not arms:
        return len(calls)
    per_arm = {sum(1 for c in calls if arm.start_byte <= c.start_byte < arm.end_byte) for arm in arms}
    outside = sum(1 for c in calls if not any(arm.start_byte <= c.start_byte < arm.end_byte for arm in arms))
    return per_arm.pop() + outside if len(per_arm) == 1 else None


@lru_cache(maxsize=64)
def _macro_names(data: bytes) -> frozenset[str]:
    names = {"builder_arg"}
    names.update(m.decode() for m in re.findall(rb"\bbuilder_arg\s+as\s+(\w+)", data))
    for match in re.finditer(rb"macro_rules!\s*(\w+)\s*\{", data):
        if re.search(rb"\.\s*arg\s*\(", data[match.end() : match.end() + 2000].split(b"macro_rules!")[0]):
            names.add(match.group(1).decode())
    return frozenset(names)


def _argument_macros(file: SyntaxUnit) -> frozenset[str]:
    """Macros that push each argument after the first onto a builder: candle's `builder_arg!` (imported as
    `barg`), and any `macro_rules!` of this file whose body calls `.arg(..)`."""
    return _macro_names(file.data)


def _diverges(unit: SyntaxUnit, node: Node) -> bool:
    """Whether a match arm leaves instead of giving a value (it then names no kernel)."""
    if node.type == "block" and node.named_children:
        node = node.named_children[-1]
        if node.type == "expression_statement" and node.named_children:
            node = node.named_children[0]
    return node.type in ("return_expression", "macro_invocation") or (
        node.type == "try_expression" and unit.data.startswith(b"Err(", node.start_byte)
    )


# Matches and blocks nested deeper than this are not followed for a kernel's name (the recursion
# would overflow Python's stack on generated input; real code nests a few levels).
_MAX_NESTING = 32


def _literals_of(unit: SyntaxUnit, value: Node, position: int | None, depth: int = 0) -> list[str] | None:
    """Every string literal `value` can evaluate to (at tuple `position`), or None if one is not a literal."""
    if depth > _MAX_NESTING:
        return None
    if value.type == "match_expression":
        body = value.child_by_field_name("body")
        arms = [arm.child_by_field_name("value") for arm in (body.named_children if body is not None else []) if arm.type == "match_arm"]
        found: list[str] = []
        for arm in arms:
            if arm is None or _diverges(unit, arm):  # `Err(..)?`, `return ..`, `unimplemented!()`: no name
                continue
            literals = _literals_of(unit, arm, position, depth + 1)
            if literals is None:
                return None
            found.extend(literal for literal in literals if literal not in found)
        return found or None
    if value.type == "block" and value.named_children:
        return _literals_of(unit, value.named_children[-1], position, depth + 1)
    if position is None and value.type == "macro_invocation" and (built := _built_name(unit.text(value))):
        return [built]  # `let name = format!("cast_{}_{}", ..)`: the pattern
    if position is not None:
        if value.type != "tuple_expression" or position >= len(value.named_children):
            return None
        return _literals_of(unit, value.named_children[position], None, depth + 1)
    match = _STRING_NAME.fullmatch(unit.text(value))
    return [match.group(1)] if match else None


def _built_name(text: str) -> str | None:
    """A name built from a stem: `kernel_name::<T>("affine")` (the exact `affine_f32` when T is written out)
    or `format!("cast_{}_{}", ..)` (the pattern `cast_*_*`); a stem stands for the family `affine_<dtype>`
    (kernel_families.py)."""
    if match := _KERNEL_NAME_HELPER.search(text):
        suffix = DTYPE_SUFFIXES.get(match.group("type"))
        return f"{match.group('stem')}_{suffix}" if suffix else match.group("stem")
    if match := _FORMATTED_NAME.search(text):
        pattern = re.sub(r"\{[^{}]*\}", "*", match.group(1))
        if len(pattern.replace("*", "").strip("_")) >= 3:  # `"{name}{size}"` names nothing
            return pattern
    return None


def _integer(text: str) -> int | None:
    match = _INTEGER.match(text.strip())
    if match is None:
        return None
    digits = match.group(1).replace("_", "")
    try:
        return int(digits, 0)
    except ValueError:
        return None


def _unwrap(node: Node) -> Node:
    """The expression under `&`, `&mut`, parentheses, `?`, `.clone()`, `.unwrap()`, `.expect(..)`."""
    current = node
    while True:
        if current.type in ("reference_expression", "try_expression", "parenthesized_expression"):
            inner = current.child_by_field_name("value") or (current.named_children[0] if current.named_children else None)
            if inner is None:
                return current
            current = inner
            continue
        method, target, _ = _method_call(current)
        if method in ("clone", "unwrap", "expect", "as_ref", "as_mut") and target is not None:
            current = target
            continue
        return current


def _strip_pointer_conversions(node: Node) -> Node:
    """`params.as_mut_ptr()`, `&mut params as *mut _`, `params.as_mut_ptr().cast()` -> `params`."""
    current = _unwrap(node)
    while True:
        if current.type == "type_cast_expression":
            value = current.child_by_field_name("value")
            if value is None:
                return current
            current = _unwrap(value)
            continue
        method, target, _ = _method_call(current)
        if method in ("as_mut_ptr", "as_ptr", "cast") and target is not None:
            current = _unwrap(target)
            continue
        return current


def _method_call(node: Node) -> tuple[str | None, Node | None, list[Node]]:
    """(method name, receiver, arguments) of `receiver.method(args)` (a turbofish allowed)."""
    if node.type != "call_expression":
        return None, None, []
    function = node.child_by_field_name("function")
    if function is not None and function.type == "generic_function":
        function = function.child_by_field_name("function")
    if function is None or function.type != "field_expression":
        return None, None, []
    member = function.child_by_field_name("field")
    if member is None or member.text is None:
        return None, None, []
    return member.text.decode("utf-8", "replace"), function.child_by_field_name("value"), call_arguments(node)


def _repeats(unit: SyntaxUnit, node: Node, scope: Node, since: int = -1) -> bool:
    """Whether `node` sits in a loop or closure inside `scope` that starts after offset `since` (the
    builder's binding): it may then run any number of times for one builder. A loop around both the
    binding and the pushes makes a fresh builder each time."""
    for _, ancestor in unit.ancestors(node):
        if ancestor.id == scope.id:
            return False
        if ancestor.type in ("for_expression", "while_expression", "loop_expression", "closure_expression"):
            if ancestor.start_byte > since:
                return True
    return False


def _launch_config(scope: Scope, node: Node, depth: int = 0) -> tuple[tuple[str, ...] | None, str | None] | None:
    """(block dimensions, dynamic shared memory) of a cudarc/candle `LaunchConfig`, where visible."""
    inner = _unwrap(node)
    text = scope.text(inner)
    if re.search(r"\bfor_num_elems\s*\(", text):
        return (FOR_NUM_ELEMS_BLOCK, "1", "1"), "0"
    if inner.type == "struct_expression":
        body = inner.child_by_field_name("body")
        values: dict[str, str] = {}
        for child in body.named_children if body is not None else []:
            if child.type == "field_initializer":
                name, value = child.child_by_field_name("field"), child.child_by_field_name("value")
                if name is not None and value is not None:
                    values[scope.text(name)] = scope.text(value)
        block = _dimensions(values["block_dim"]) if "block_dim" in values else None
        return block, values.get("shared_mem_bytes")
    resolved = scope._value(inner, depth)
    if resolved is not None and depth < _MAX_DEPTH:
        return _launch_config(scope, resolved[1], depth + 1)
    return None


def launches_in_block(unit: SyntaxUnit, block: Node, patterns: tuple[str, ...] = ()) -> list[LaunchSite]:
    """The launch sites whose innermost unsafe block is `block` (for the block's SAFETY template)."""
    sites = find_launches(unit, patterns, (unit.start(block), unit.end(block)))
    return [site for site in sites if site.unsafe_block is not None and site.unsafe_block[1].id == block.id]
