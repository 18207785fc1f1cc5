"""Text that must be present for a rule, or a kind of site, to matter.

Matching these is far cheaper than parsing or querying a tree, so files and
regions without a match are skipped.
"""

from __future__ import annotations

import re

UNSAFE = re.compile(rb"\bunsafe\b")
NUMERIC_CAST = re.compile(rb"\bas\s+(?:[iu](?:8|16|32|64|128|size)|f16|f32|f64|f128)\b")
UNSAFE_IMPL = re.compile(rb"\bunsafe\s+impl\b")
TO_DTYPE_CALL = re.compile(rb"\bto_dtype\b")
CONTIGUOUS_CALL = re.compile(rb"\bcontiguous\b")
DYN = re.compile(rb"\bdyn\b")
EXHAUSTIVE_ALLOW = re.compile(rb"exhaustive_enums")
BORROW_METHODS = re.compile(rb"\b(?:as_str|as_bytes|to_owned)\b")
BRACKET = re.compile(rb"\[")
UNCHECKED_ALLOC = re.compile(rb"\.\s*alloc(?:_zeros)?\s*(?:::\s*<|\()")
