"""The id of every rule, generated from rules/ by scripts/generate_docs.py (do not edit).

Settings are validated against these without importing the rules and their parsers.
"""

RULE_IDS = frozenset(
    (
        "cast-annotation-mismatch",
        "ffi-signature-mismatch",
        "gpu-sanitizer-error",
        "incomplete-safety-doc",
        "kernel-launch",
        "kernel-launch-mismatch",
        "missing-borrow",
        "missing-cast",
        "missing-contiguous",
        "missing-exhaustive",
        "missing-index",
        "missing-promote",
        "missing-safety-doc",
        "missing-trait-object",
        "placeholder-annotation",
        "undocumented-unsafe-block",
        "undocumented-unsafe-impl",
        "unjustified-send-sync",
        "unsafe-attribute",
        "unsafe-device-alloc",
        "unsafe-extern-block",
        "vague-annotation",
    )
)
