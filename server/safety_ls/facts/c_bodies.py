"""A C/C++/CUDA source with its function bodies emptied, for a faster preprocessing.

The CUDA index needs the signatures of `extern "C"` functions, never what their bodies do; but
pcpp spent most of its time expanding macros inside bodies (mistral.rs: 14 s for 85 sources, 3 s
of it in one file's macro-written kernels). Emptying every function body (a `{` right after a
function head's `)`), in the source and in `#define` replacements, keeps what the index reads:
directives (verbatim, wherever they are, so macros defined inside a body are still defined),
top-level macro invocations that expand to kernels, declarations, struct, enum, namespace and
`extern "C"` blocks, each body's braces and every line break (moved after the body's closing
brace, so the lines after it map back unchanged). Where braces cannot be matched with certainty
(an `#if` whose branches open different numbers of them, a brace left open at the end) the source
is not emptied and is preprocessed whole.
"""

from __future__ import annotations

import re

_TOKEN = re.compile(
    r"""(?P<comment>//[^\n]*|/\*.*?\*/)
    |(?P<string>"(?:[^"\\\n]|\\.)*"|'(?:[^'\\\n]|\\.)*')
    |(?P<directive>^[ \t]*\#(?:[^\n\\]|\\.)*)
    |(?P<brace>[{}])
    |(?P<paren>[()])
    |(?P<end>;)""",
    re.MULTILINE | re.DOTALL | re.VERBOSE,
)
_DEFINE = re.compile(r"[ \t]*#[ \t]*define[ \t]+\w+(?:\([^)]*\))?")
# Stands for a backslash-newline while a macro's replacement is emptied (kept, one per line).
_CONTINUATION = "\x01"
_CONDITIONAL = re.compile(r"[ \t]*#[ \t]*(if|ifdef|ifndef|elif|elifdef|elifndef|else|endif)\b")
# A function's head just before its body: `)`, then qualifiers or a trailing return type.
_FUNCTION_HEAD = re.compile(r"\)\s*(?:(?:const|noexcept|override|final|mutable|volatile|&&?)\s*)*$|->\s*[^;{}()]+$")

_State = tuple[tuple[bool, ...], int]  # (for each open brace: whether it opened a body, parenthesis depth)


def without_bodies(text: str, line_break: str = "\n") -> str | None:
    """`text` with each body's contents removed (its line breaks and directives kept), or None
    when its braces cannot be matched with certainty."""
    output: list[str] = []
    braces: list[bool] = []  # open braces, innermost last: True for a body being emptied
    in_body = 0  # how many of `braces` are bodies (the contents are dropped while any is open)
    parens = 0
    written = 0  # text[:written] is accounted for in `output`
    # Line breaks of the body being emptied, written after its closing brace: a run of empty lines
    # inside a body makes pcpp write a `#line` there, which the C grammar rejects inside an `enum { }`.
    skipped_lines = 0
    statement_start = 0  # where the declaration before a `{` begins
    # For each open #if: the state it started in, and the state its first branch ended in.
    conditionals: list[tuple[_State, _State | None]] = []
    for match in _TOKEN.finditer(text):
        kind = match.lastgroup
        start, end = match.span()
        if in_body:  # line breaks wait until the body closes, unless a directive needs its own line
            skipped_lines += text.count(line_break, written, start)
            written = start
            if kind == "directive":
                output.append(line_break * skipped_lines)
                skipped_lines = 0
        if kind == "directive":
            conditional = _CONDITIONAL.match(match.group())
            if conditional is not None:
                state: _State = (tuple(braces), parens)
                keyword = conditional.group(1)
                if keyword.startswith("if"):
                    conditionals.append((state, None))
                elif conditionals:
                    opened, first_branch = conditionals.pop()
                    if first_branch is not None and first_branch != state:
                        return None  # branches that leave braces differently: which one the compiler sees decides
                    if keyword == "endif":
                        continue_state = state
                    else:
                        conditionals.append((opened, state))
                        continue_state = opened
                    braces[:] = list(continue_state[0])
                    parens = continue_state[1]
                    in_body = sum(braces)
            directive = match.group()
            if (define := _DEFINE.match(directive)) is not None:
                directive = directive[: define.end()] + _macro_without_bodies(directive[define.end() :])
            output.append(text[written:start] + directive)
            written = statement_start = end
            continue
        if in_body:  # dropped; its line breaks are counted with the next token's
            if kind == "brace":
                if match.group() == "{":
                    braces.append(False)
                elif braces.pop():
                    in_body -= 1
                    if not in_body:
                        # After a directive kept in the body the brace needs a line of its own.
                        # The `;` keeps it a body: the C++ grammar reads `f(..) {}` as `f` initialised with `{}`.
                        before = line_break if skipped_lines and output[-1].lstrip().startswith("#") else ""
                        output.append(before + ";}" + line_break * (skipped_lines - len(before)))
                        skipped_lines = 0
                        written = statement_start = end
            continue
        if kind == "paren":
            parens += 1 if match.group() == "(" else -1
        elif kind == "end" and parens == 0:
            statement_start = end
        elif kind == "brace" and parens == 0:
            if match.group() == "{":
                body = _FUNCTION_HEAD.search(_code(text[statement_start:start])) is not None
                braces.append(body)
                if body:
                    in_body += 1
                    output.append(text[written:end])
                    written = end
                    continue
            elif not braces:
                return None
            else:
                braces.pop()
            statement_start = end
    if braces or parens or conditionals:
        return None
    output.append(text[written:])
    return "".join(output)


def _code(declaration: str) -> str:
    """The declaration without its comments (`extern "C" /* .. */ {`) and macro line continuations."""
    return re.sub(r"//[^\n]*|/\*.*?\*/", " ", declaration, flags=re.DOTALL).replace(_CONTINUATION, " ")


def _macro_without_bodies(replacement: str) -> str:
    """A `#define`'s replacement with its bodies emptied: a macro that writes a kernel per dtype
    is expanded once per invocation, body and all (mistral.rs: 816 functions from one file)."""
    joined = replacement.replace("\\\n", _CONTINUATION)
    emptied = without_bodies(joined, _CONTINUATION)
    return replacement if emptied is None else emptied.replace(_CONTINUATION, "\\\n")
