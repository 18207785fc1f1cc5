"""missing-cast and cast-annotation-mismatch: the `// CAST: <from> → <to>, <reason>` convention."""

from __future__ import annotations

import pytest
from safety_ls.config.templates import Templates
from safety_ls.core.findings import Diagnostic
from safety_ls.core.settings import PlacementOptions, Settings
from safety_ls.core.source import SourceText
from safety_ls.engine.analyze import analyze
from safety_ls.fixes.apply import fix_source

RULES = {"missing-cast", "cast-annotation-mismatch"}


def check(source: str, settings: Settings | None = None) -> list[Diagnostic]:
    result = analyze(SourceText.from_text(source), "x.rs", settings or Settings(select=frozenset(RULES)))
    assert result.error is None
    return result.diagnostics


def lines(source: str, rule: str, settings: Settings | None = None) -> list[int]:
    return [d.line for d in check(source, settings) if d.rule == rule]




def test_missing_cast_is_in_the_default_profile() -> None:
    diagnostics = check("fn f(n: usize) -> u32 { n as u32 }\n", Settings())
    assert [d.rule for d in diagnostics] == ["missing-cast"]


def test_missing_cast_message_names_inferred_source_and_target() -> None:
    (diagnostic,) = check("fn f(n: usize) -> u32 {\n    n as u32\n}\n")
    assert diagnostic.message == "`as u32` cast missing a `// CAST: usize → u32, <reason>` comment"
    assert (diagnostic.data["from"], diagnostic.data["to"]) == ("usize", "u32")


def test_missing_cast_message_uses_placeholder_when_source_unknown() -> None:
    (diagnostic,) = check("fn f() -> u32 {\n    g() as u32\n}\n")
    assert "`// CAST: <from> → u32, <reason>`" in diagnostic.message


def test_missing_cast_range_is_the_cast_expression_in_characters() -> None:
    source = 'fn f(n: usize) {\n    let s = "→→"; let a = n as u32;\n}\n'
    (diagnostic,) = check(source)
    assert (diagnostic.line, diagnostic.column) == (2, 27)
    assert (diagnostic.end_line, diagnostic.end_column) == (2, 35)


@pytest.mark.parametrize("target", ["*const u8", "char", "_", "&dyn std::any::Any", "Box<u8>"])
def test_non_numeric_targets_are_not_casts_to_annotate(target: str) -> None:
    assert check(f"fn f(b: u8) {{\n    let x = b as {target};\n}}\n") == []


@pytest.mark.parametrize("target", ["u8", "i128", "usize", "isize", "f32", "f64"])
def test_every_numeric_target_needs_a_cast_comment(target: str) -> None:
    assert lines(f"fn f(b: u8) {{\n    let x = b as {target};\n}}\n", "missing-cast") == [2]


def test_casts_in_const_contexts_count() -> None:
    source = "const A: u32 = 7u64 as u32;\nstatic B: [u8; 2u16 as usize] = [0; 2];\nfn f() { let a = [0u8; 3u8 as usize]; }\n"
    assert lines(source, "missing-cast") == [1, 2, 3]


def test_comment_above_attribute_counts_for_cast() -> None:
    source = (
        "fn f(n: usize) {\n"
        "    // CAST: usize → u32, dims are bounded by the model config\n"
        "    #[allow(clippy::cast_possible_truncation)]\n"
        "    let a = n as u32;\n"
        "}\n"
    )
    assert check(source) == []


def test_comment_above_attribute_does_not_count_when_attributes_are_not_transparent() -> None:
    source = (
        "fn f(n: usize) {\n"
        "    // CAST: usize → u32, dims are bounded by the model config\n"
        "    #[allow(clippy::cast_possible_truncation)]\n"
        "    let a = n as u32;\n"
        "}\n"
    )
    settings = Settings(select=frozenset(RULES), placement=PlacementOptions(accept_comment_above_attributes=False))
    assert lines(source, "missing-cast", settings) == [4]


WRAPPED_LET = (
    "fn f(n: usize) {\n"
    "    // CAST: usize → u64, widening; never truncates on 64-bit hosts\n"
    "    let total: u64 =\n"
    "        n as u64;\n"
    "}\n"
)


def test_comment_above_wrapped_let_counts_for_cast() -> None:
    assert check(WRAPPED_LET) == []


def test_comment_above_wrapped_let_needs_accept_comment_above_statement() -> None:
    settings = Settings(select=frozenset(RULES), placement=PlacementOptions(accept_comment_above_statement=False))
    assert lines(WRAPPED_LET, "missing-cast", settings) == [4]


def test_trailing_cast_comment_is_rejected() -> None:
    assert lines("fn f(n: usize) {\n    let a = n as u32; // CAST: usize → u32, fits\n}\n", "missing-cast") == [2]


def test_cast_comment_above_fn_is_rejected() -> None:
    source = "// CAST: usize → u32, fits\nfn f(n: usize) -> u32 {\n    n as u32\n}\n"
    assert lines(source, "missing-cast") == [3]


def test_cast_comment_above_fn_covers_a_cast_in_its_signature() -> None:
    source = "// CAST: u16 → usize, widening\nfn f() -> [u8; 4u16 as usize] {\n    [0; 4]\n}\n"
    assert check(source) == []


@pytest.mark.parametrize(
    "comment",
    [
        "/* CAST: usize → u32, fits */",
        "/*\n     * CAST: usize → u32, fits\n     */",
        "// CAST: usize → u32, the header stores dims\n    // as u32, capped at 65536",
        "// The dimension comes from the header.\n    // CAST: usize → u32, the header stores it as u32",
    ],
    ids=["block", "multi-line block", "run, tag first", "run, tag last"],
)
def test_comment_forms_count_for_cast(comment: str) -> None:
    assert check(f"fn f(n: usize) {{\n    {comment}\n    let a = n as u32;\n}}\n") == []


def test_chained_call_cast_site_is_the_line_of_the_cast() -> None:
    source = (
        "fn f(v: &[u8], n: usize) {\n"
        "    let m = v\n"
        "        .iter()\n"
        "        // CAST: usize → u8, n < 256 checked by the caller\n"
        "        .map(|x| x + n as u8)\n"
        "        .count();\n"
        "    let k = v\n"
        "        .iter()\n"
        "        .map(|x| x + n as u8)\n"
        "        .count();\n"
        "}\n"
    )
    assert lines(source, "missing-cast") == [9]


def test_cast_inside_macro_arguments_is_checked() -> None:
    source = (
        "fn f(n: usize) {\n"
        "    // CAST: usize → u32, fits\n"
        '    println!("{}", n as u32);\n'
        '    println!("{}", n as u32);\n'
        "}\n"
    )
    assert lines(source, "missing-cast") == [4]


def test_crlf_source_behaves_like_lf_for_cast() -> None:
    lf = "fn f(n: usize) {\n    // CAST: usize → u32, fits\n    let a = n as u32;\n    let b = n as u32;\n}\n"
    crlf = lf.replace("\n", "\r\n")
    assert [(d.line, d.column, d.rule) for d in check(crlf)] == [(d.line, d.column, d.rule) for d in check(lf)] == [
        (4, 13, "missing-cast")
    ]


@pytest.mark.parametrize("arrow", ["→", "->"])
def test_both_arrows_name_the_conversion(arrow: str) -> None:
    good = f"fn f(n: usize) {{\n    // CAST: usize {arrow} u32, fits\n    let a = n as u32;\n}}\n"
    stale = f"fn f(n: usize) {{\n    // CAST: usize {arrow} u16, fits\n    let a = n as u32;\n}}\n"
    assert check(good) == []
    assert lines(stale, "cast-annotation-mismatch") == [3]


def test_mismatch_message_for_a_stale_target() -> None:
    source = "fn f(n: usize) {\n    // CAST: usize → u16, fits\n    let a = n as u32;\n}\n"
    (diagnostic,) = check(source)
    assert diagnostic.message == "CAST comment says usize → u16 but this cast is to `u32`"


def test_mismatch_message_for_a_stale_source() -> None:
    source = "fn f(n: u64) {\n    // CAST: usize → u32, fits\n    let a = n as u32;\n}\n"
    (diagnostic,) = check(source)
    assert diagnostic.message == "CAST comment says usize → u32 but the value cast here is `u64`"


def test_mismatch_when_the_comment_names_no_conversion() -> None:
    source = "fn f(n: usize) {\n    // CAST: fits in u32 because dims are small\n    let a = n as u32;\n}\n"
    (diagnostic,) = check(source)
    assert diagnostic.rule == "cast-annotation-mismatch"
    assert "does not name the conversion" in diagnostic.message


def test_struct_field_source_type_via_self() -> None:
    source = (
        "struct S { rows: u64 }\n"
        "impl S {\n"
        "    fn f(&self) -> u32 {\n"
        "        // CAST: usize → u32, stale\n"
        "        self.rows as u32\n"
        "    }\n"
        "}\n"
    )
    assert lines(source, "cast-annotation-mismatch") == [5]


def test_shadowed_binding_uses_the_latest_declaration() -> None:
    source = (
        "fn f() {\n"
        "    let x: u64 = 1;\n"
        "    let x: i64 = -1;\n"
        "    // CAST: i64 → i32, small offset\n"
        "    let y = x as i32;\n"
        "}\n"
    )
    assert check(source) == []


def test_unfilled_template_is_left_to_placeholder_annotation() -> None:
    source = "fn f(n: usize) {\n    // CAST: <from> → <to>, <reason>\n    let a = n as u32;\n}\n"
    diagnostics = check(source, Settings(select=frozenset(RULES | {"placeholder-annotation"})))
    assert [(d.line, d.rule) for d in diagnostics] == [(2, "placeholder-annotation")]


def test_multi_pair_comment_covers_each_cast_of_the_statement() -> None:
    source = (
        "fn f(rows: usize, cols: i64) {\n"
        "    // CAST: usize → u32, i64 → u32, both dims are bounded by the model config\n"
        "    let shape = (rows as u32, cols as u32);\n"
        "}\n"
    )
    assert check(source) == []


def test_chained_conversion_covers_nested_casts() -> None:
    source = "fn f(x: u8) {\n    // CAST: u8 → u16 → u32, two widening steps\n    let y = (x as u16) as u32;\n}\n"
    assert check(source) == []


LOSSY = Settings(select=frozenset(RULES), cast_policy="lossy")


@pytest.mark.parametrize(
    ("declared", "target"),
    [("u8", "u32"), ("f32", "f64"), ("u32", "i64"), ("i32", "f64"), ("u16", "usize"), ("bool", "u8"), ("usize", "u64")],
)
def test_lossy_policy_skips_widenings_the_source_type_proves(declared: str, target: str) -> None:
    assert lines(f"fn f(x: {declared}) {{\n    let y = x as {target};\n}}\n", "missing-cast", LOSSY) == []


@pytest.mark.parametrize(
    ("declared", "target"),
    [("u64", "u32"), ("i32", "u32"), ("u32", "f32"), ("f64", "f32"), ("u32", "usize"), ("usize", "f64"), ("f32", "i32")],
)
def test_lossy_policy_flags_casts_that_can_truncate_change_sign_or_round(declared: str, target: str) -> None:
    assert lines(f"fn f(x: {declared}) {{\n    let y = x as {target};\n}}\n", "missing-cast", LOSSY) == [2]


def test_lossy_policy_flags_casts_whose_source_is_unknown() -> None:
    assert lines("fn f() {\n    let y = g() as u64;\n}\n", "missing-cast", LOSSY) == [2]


def test_all_policy_is_the_default_and_flags_widenings() -> None:
    assert lines("fn f(x: u8) {\n    let y = x as u32;\n}\n", "missing-cast") == [2]


def test_cast_comment_on_an_enclosing_allow_is_checked_against_the_cast() -> None:
    source = (
        "// CAST: usize → u32, ids fit\n"
        "#[allow(clippy::as_conversions)]\n"
        "fn f(n: usize) -> u64 {\n"
        "    n as u64\n"
        "}\n"
    )
    assert lines(source, "cast-annotation-mismatch") == [4]


@pytest.mark.parametrize(
    ("body", "source"),
    [
        ("let flops = b * m * k;\n    let y = flops as f64;", "usize"),  # an untyped let of known operands
        ("let half = n / 2;\n    let y = half as f64;", "usize"),  # an unsuffixed literal takes the other's type
        ("for i in 0..n {\n        let y = i as f64;\n    }", "usize"),  # a for loop over a range
        ("for (i, _) in v.iter().enumerate() {\n        let y = i as f64;\n    }", "usize"),
        ("let y = t.dim(0)? as f64;", "usize"),  # candle's Result<usize> dims
        ("let y = start.elapsed().as_secs_f32() as f64;", "f32"),
        ("let y = (n > b) as f64;", "bool"),
    ],
)
def test_source_type_is_inferred_through_lets_loops_and_operators(body: str, source: str) -> None:
    code = f"fn f(n: usize, b: usize, m: usize, k: usize, v: &[u8], t: &Tensor, start: Instant) {{\n    {body}\n}}\n"
    (diagnostic,) = [d for d in check(code) if d.rule == "missing-cast"]
    assert diagnostic.data["from"] == source


def test_a_let_that_shadows_reads_the_old_binding() -> None:
    code = "fn f(n: u64) {\n    let n: u32 = n as u32;\n}\n"
    (diagnostic,) = [d for d in check(code) if d.rule == "missing-cast"]
    assert diagnostic.data["from"] == "u64"


def test_casts_in_nested_closures_read_the_nearest_binding_outwards() -> None:
    # Bindings are indexed once from the outermost function: each closure keeps its own lets.
    code = (
        "fn f(x: u64) {\n"
        "    let a = |y: u8| {\n"
        "        let x: i16 = 1;\n"
        "        let b = |z: u8| |w: u8| x as u32;\n"
        "        x as u8\n"
        "    };\n"
        "    let c = |y: u8| |z: u8| x as u32;\n"
        "    let x: i8 = 0;\n"
        "    let d = x as u16;\n"
        "}\n"
    )
    found = sorted((d.line, d.data["from"]) for d in check(code) if d.rule == "missing-cast")
    assert found == [(4, "i16"), (5, "i16"), (7, "u64"), (9, "i8")]


def test_a_closure_reads_the_bindings_before_it_and_its_own_parameters_first() -> None:
    code = (
        "fn f(x: u64, n: usize) {\n"
        "    let before: i32 = 0;\n"
        "    let g = |x: u16| { let h = |k: u8| (x as u32, before as u64, n as u32, later as u8); };\n"
        "    let later: i64 = 1;\n"
        "    let j = |y: u8| |z: u8| (x as u32, before as u64);\n"
        "}\n"
    )
    found = [(d.line, d.column, d.data["from"]) for d in check(code) if d.rule == "missing-cast"]
    assert found == [(3, 41, "u16"), (3, 51, "i32"), (3, 66, "usize"), (3, 76, None), (5, 30, "u64"), (5, 40, "i32")]


def test_a_comment_above_an_else_if_chain_covers_the_casts_of_every_branch() -> None:
    # The walk up from each branch is shared along the chain: every branch must still get its own
    # statement's answer (covered under a comment, flagged without one).
    code = (
        "fn f(x: u64, k: usize) -> u32 {\n"
        "    // CAST: u64 → u32, k selects a bounded value\n"
        "    let y = if k == 0 { x as u32 } else if k == 1 { x as u32 } else if k == 2 { x as u32 } else { 0 };\n"
        "    let z = if k == 0 { x as u32 } else if k == 1 { (x as u32) + 1 } else { 0 };\n"
        "    // CAST: u64 → u32, k selects a bounded value\n"
        "    let w = if k == 0 { x as u32 } else if k == 1 { f(x as u32) } else { x as u32 };\n"
        "    y + z + w\n"
        "}\n"
    )
    assert lines(code, "missing-cast") == [4, 4]


def test_operands_of_different_types_are_unknown() -> None:
    code = "fn f(a: u8, b: u16) {\n    let y = (a + b) as f64;\n}\n"
    (diagnostic,) = [d for d in check(code) if d.rule == "missing-cast"]
    assert diagnostic.data["from"] is None


def test_a_chain_of_casts_is_reported_once_and_its_fix_names_every_step() -> None:
    code = "fn f(x: u64) -> u8 {\n    let y = x as u32 as u16 as u8;\n    y\n}\n"
    assert lines(code, "missing-cast") == [2]
    fixed = fix_source(code.encode(), "f.rs", Settings(select=frozenset(RULES)), Templates()).fixed.decode()
    assert fixed.splitlines()[1] == "    // CAST: u64 → u32, u32 → u16, u16 → u8, <reason>"
