"""The settings model: what a configuration can say, with the defaults. Loading and validating it is config/."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Mapping

from safety_ls.core.findings import Severity

DEFAULT_MATMUL_METHODS = ("matmul", "broadcast_matmul", "bmm", "mm", "gemm", "batch_matmul")
DEFAULT_PROMOTION_TARGETS = ("F32", "F64")
DEFAULT_MAX_FILE_SIZE = 4 * 1024 * 1024
GPU_BACKENDS = ("local", "ssh", "srun")
GPU_TOOLS = ("memcheck", "racecheck", "initcheck", "synccheck")
CAST_POLICIES = ("all", "lossy")
# Named rule sets; each rule says which of them enable it (rules/).
PROFILES = ("default", "structured", "grit")


@dataclass(frozen=True)
class PlacementOptions:
    """Where annotations may stand beyond clippy's own rule (core/placement.py reads them)."""

    accept_comment_above_statement: bool = True
    accept_comment_above_attributes: bool = True
    # PROMOTE, CONTIGUOUS and CAST: a tag comment also covers the statements that follow the
    # one below it, up to a blank line (`group-annotations`, off by default).
    group_annotations: bool = False


@dataclass(frozen=True)
class GpuSettings:
    command: tuple[str, ...] = ()
    tools: tuple[str, ...] = ("memcheck",)
    timeout: float = 600.0
    env: Mapping[str, str] = field(default_factory=dict)
    backend: str = "local"
    host: str | None = None
    remote_dir: str | None = None
    srun_args: tuple[str, ...] = ()
    sanitizer: str = "compute-sanitizer"
    build_root: str | None = None
    ssh_args: tuple[str, ...] = ()
    xml: bool = False  # local runs: read the report from `--xml --save FILE` instead of the text output


@dataclass(frozen=True)
class Settings:
    profile: str = "default"
    select: frozenset[str] | None = None
    extend_select: frozenset[str] = frozenset()
    ignore: frozenset[str] = frozenset()
    severity: Mapping[str, Severity] = field(default_factory=dict)
    placement: PlacementOptions = PlacementOptions()
    matmul_methods: tuple[str, ...] = DEFAULT_MATMUL_METHODS
    promotion_targets: tuple[str, ...] = DEFAULT_PROMOTION_TARGETS
    launch_patterns: tuple[str, ...] = ()
    vague_phrases: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()
    max_file_size: int = DEFAULT_MAX_FILE_SIZE
    template_dir: str | None = None
    alloc_wrapper_module: str | None = None  # module path for the checked allocation wrapper
    gpu: GpuSettings = GpuSettings()
    # Noise controls for adoption (README, Configuration); the defaults are clippy's behaviour.
    cast_policy: str = "all"  # "lossy": missing-cast only for casts that can lose information
    tests: bool = True  # False: skip test targets and #[cfg(test)] / #[test] items
    send_sync_pair: bool = False  # one SAFETY over `unsafe impl Send` covers the Sync impl after it
    source: str | None = None  # the file these came from, for messages
    root: str | None = None  # the directory paths in the config are relative to

    def severity_of(self, rule_id: str, default: Severity) -> Severity:
        return self.severity.get(rule_id, default)

    def fingerprint(self) -> str:
        """A stable text that changes whenever any setting that affects results changes."""
        return repr(replace(self, source=None, root=None, gpu=GpuSettings()))
