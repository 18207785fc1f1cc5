"""missing-promote and missing-contiguous: `// PROMOTE:` and `// CONTIGUOUS:` (candle-mi)."""

from __future__ import annotations

import pytest
from safety_ls.core.findings import Diagnostic
from safety_ls.core.settings import PlacementOptions, Settings
from safety_ls.core.source import SourceText
from safety_ls.engine.analyze import analyze

RULES = {"missing-promote", "missing-contiguous"}


def check(source: str, settings: Settings | None = None) -> list[Diagnostic]:
    result = analyze(SourceText.from_text(source), "x.rs", settings or Settings(select=frozenset(RULES)))
    assert result.error is None
    return result.diagnostics


def found(source: str, settings: Settings | None = None) -> list[tuple[int, str]]:
    return [(d.line, d.rule) for d in check(source, settings)]


def fn(body: str) -> str:
    return f"fn f(x: &Tensor, q: &Tensor, k: &Tensor) -> Result<Tensor> {{\n{body}}}\n"




# --- missing-promote ---------------------------------------------------------------------


@pytest.mark.parametrize("argument", ["DType::F32", "candle_core::DType::F32", "DType::F64"])
def test_promotion_to_a_wide_float_needs_promote(argument: str) -> None:
    assert found(fn(f"    x.to_dtype({argument})\n")) == [(2, "missing-promote")]


@pytest.mark.parametrize("argument", ["DType::F16", "DType::BF16", "DType::U8", "x.dtype()", "dtype"])
def test_other_dtypes_are_not_promotions(argument: str) -> None:
    assert found(fn(f"    x.to_dtype({argument})\n")) == []


def test_promotion_targets_setting_changes_what_counts() -> None:
    source = fn("    let a = x.to_dtype(DType::F64)?;\n    x.to_dtype(DType::F32)\n")
    assert found(source, Settings(select=frozenset(RULES), promotion_targets=("F32",))) == [(3, "missing-promote")]


def test_promote_message_and_range_start_at_the_method_name() -> None:
    (diagnostic,) = check(fn("    let p = x.to_dtype(DType::F32)?.exp()?;\n    Ok(p)\n"))
    assert diagnostic.message == "promotion to F32 missing a `// PROMOTE: <reason>` comment"
    assert (diagnostic.line, diagnostic.column) == (2, 15)
    assert diagnostic.fix.context["hint"] == "exp"


def test_single_promote_above_map_covers_the_closure() -> None:
    source = (
        "fn f(xs: &[Tensor]) -> Vec<Result<Tensor>> {\n"
        "    // PROMOTE: per-head scores are summed in F32 to match the Python reference\n"
        "    xs.iter().map(|t| t.to_dtype(DType::F32)).collect()\n"
        "}\n"
    )
    assert found(source) == []


def test_promote_above_statement_covers_a_wrapped_single_expression_closure() -> None:
    source = (
        "fn f(xs: &[Tensor]) -> Vec<Result<Tensor>> {\n"
        "    // PROMOTE: per-head scores are summed in F32 to match the Python reference\n"
        "    let out = xs\n"
        "        .iter()\n"
        "        .map(|t| t.to_dtype(DType::F32))\n"
        "        .collect();\n"
        "    out\n"
        "}\n"
    )
    assert found(source) == []


def test_promote_above_statement_reaches_a_braced_closure_of_one_expression() -> None:
    source = (
        "fn f(xs: &[Tensor]) -> Vec<Result<Tensor>> {\n"
        "    // PROMOTE: per-head scores are summed in F32\n"
        "    xs.iter().map(|t| {\n"
        "        t.to_dtype(DType::F32)\n"
        "    }).collect()\n"
        "}\n"
    )
    assert found(source) == []


def test_promote_above_statement_does_not_reach_into_a_closure_with_statements() -> None:
    source = (
        "fn f(xs: &[Tensor]) -> Vec<Result<Tensor>> {\n"
        "    // PROMOTE: per-head scores are summed in F32\n"
        "    xs.iter().map(|t| {\n"
        "        let u = t.relu()?;\n"
        "        u.to_dtype(DType::F32)\n"
        "    }).collect()\n"
        "}\n"
    )
    assert found(source) == [(5, "missing-promote")]


def test_chained_promote_site_is_the_method_name_line() -> None:
    annotated = fn(
        "    let p = x\n"
        "        .narrow(0, 0, 4)?\n"
        "        // PROMOTE: softmax over F16 produces NaN; compute in F32\n"
        "        .to_dtype(DType::F32)?;\n"
        "    Ok(p)\n"
    )
    bare = fn("    let p = x\n        .narrow(0, 0, 4)?\n        .to_dtype(DType::F32)?;\n    Ok(p)\n")
    assert found(annotated) == []
    assert found(bare) == [(4, "missing-promote")]


def test_trailing_promote_comment_is_rejected() -> None:
    assert found(fn("    x.to_dtype(DType::F32) // PROMOTE: softmax over F16 produces NaN\n")) == [(2, "missing-promote")]


def test_promote_comment_above_fn_is_rejected() -> None:
    assert found("// PROMOTE: softmax over F16 produces NaN\n" + fn("    x.to_dtype(DType::F32)\n")) == [
        (3, "missing-promote")
    ]


def test_promote_above_attributes_counts() -> None:
    source = fn(
        "    // PROMOTE: softmax over F16 produces NaN\n"
        "    #[allow(clippy::let_and_return)]\n"
        "    let p = x.to_dtype(DType::F32)?;\n"
        "    Ok(p)\n"
    )
    assert found(source) == []


def test_promote_inside_macro_arguments() -> None:
    source = fn(
        "    // PROMOTE: the assertion compares against an F32 reference\n"
        "    assert!(x.to_dtype(DType::F32).is_ok());\n"
        "    assert!(x.to_dtype(DType::F32).is_ok());\n"
        "    Ok(x.clone())\n"
    )
    assert found(source) == [(4, "missing-promote")]


def test_promote_with_crlf_and_non_ascii() -> None:
    source = fn(
        "    // PROMOTE: log-softmax in F16 → -inf for small probabilities\n"
        "    let a = x.to_dtype(DType::F32)?;\n"
        '    let s = "→"; let b = x.to_dtype(DType::F32)?;\n'
        "    Ok(a)\n"
    ).replace("\n", "\r\n")
    (diagnostic,) = check(source)
    assert (diagnostic.line, diagnostic.column) == (4, 28)


# --- missing-contiguous --------------------------------------------------------------------


def test_contiguous_in_the_same_chain_as_matmul() -> None:
    assert found(fn("    k.t()?.contiguous()?.matmul(q)\n")) == [(2, "missing-contiguous")]


def test_contiguous_as_a_matmul_argument() -> None:
    assert found(fn("    q.matmul(&k.t()?.contiguous()?)\n")) == [(2, "missing-contiguous")]


def test_contiguous_binding_later_used_by_matmul() -> None:
    source = fn("    let kt = k.t()?.contiguous()?;\n    let s = (q * 0.5)?;\n    s.matmul(&kt)\n")
    assert found(source) == [(2, "missing-contiguous")]


def test_contiguous_that_never_reaches_a_matmul_is_not_flagged() -> None:
    source = fn("    let kt = k.t()?.contiguous()?;\n    let s = kt.sum_all()?;\n    x.matmul(q)\n")
    assert found(source) == []


def test_contiguous_binding_used_by_matmul_in_another_function_is_not_flagged() -> None:
    source = fn("    let kt = k.t()?.contiguous()?;\n    Ok(kt)\n") + "fn g(q: &Tensor, kt: &Tensor) -> Result<Tensor> {\n    q.matmul(kt)\n}\n"
    assert found(source) == []


def test_matmul_methods_setting_changes_the_set() -> None:
    source = fn("    let a = k.t()?.contiguous()?.my_gemm(q)?;\n    k.t()?.contiguous()?.matmul(q)\n")
    custom = Settings(select=frozenset(RULES), matmul_methods=("my_gemm",))
    assert found(source) == [(3, "missing-contiguous")]
    assert found(source, custom) == [(2, "missing-contiguous")]


def test_matmul_methods_setting_applies_to_free_functions() -> None:
    source = fn("    fused::my_gemm(q, &k.t()?.contiguous()?)\n")
    assert found(source, Settings(select=frozenset(RULES), matmul_methods=("my_gemm",))) == [(2, "missing-contiguous")]


def test_contiguous_message_and_range() -> None:
    (diagnostic,) = check(fn("    k.transpose(1, 2)?.contiguous()?.matmul(q)\n"))
    assert diagnostic.message == "`.contiguous()` before a matmul missing a `// CONTIGUOUS: <reason>` comment"
    assert (diagnostic.line, diagnostic.column) == (2, 24)
    assert diagnostic.fix.context["cause"] == "transpose"


def test_contiguous_cause_counts_only_the_links_since_the_previous_copy() -> None:
    # The first copy left `k` contiguous: the second is made necessary by the narrow after it.
    first, second = check(fn("    k.t()?.contiguous()?.narrow(0, 0, 2)?.contiguous()?.matmul(q)\n"))
    assert (first.fix.context["cause"], second.fix.context["cause"]) == ("transpose", "narrow")


def test_contiguous_cause_reads_arguments_and_wrappers_of_the_chain() -> None:
    (diagnostic,) = check(fn("    (&k.permute((0, 2, 1))?).contiguous()?.matmul(q)\n"))
    assert diagnostic.fix.context["cause"] == "permute"


@pytest.mark.parametrize(
    "comment",
    [
        "// CONTIGUOUS: transpose produces non-unit strides; matmul requires contiguous layout",
        "/* CONTIGUOUS: transpose produces non-unit strides */",
        "// The key is stored transposed.\n    // CONTIGUOUS: transpose produces non-unit strides",
        "// CONTIGUOUS: transpose produces non-unit strides\n    #[allow(unused_variables)]",
    ],
    ids=["line", "block", "run", "above attribute"],
)
def test_contiguous_comment_forms(comment: str) -> None:
    assert found(fn(f"    {comment}\n    let a = q.matmul(&k.t()?.contiguous()?)?;\n    Ok(a)\n")) == []


def test_contiguous_above_wrapped_chain_statement_counts_and_method_line_is_the_site() -> None:
    annotated = fn(
        "    // CONTIGUOUS: permute leaves a strided view\n"
        "    let out = k\n"
        "        .permute((0, 2, 1, 3))?\n"
        "        .contiguous()?\n"
        "        .matmul(q)?;\n"
        "    Ok(out)\n"
    )
    bare = annotated.replace("    // CONTIGUOUS: permute leaves a strided view\n", "")
    assert found(annotated) == []
    assert [(d.line, d.column) for d in check(bare)] == [(4, 10)]


def test_trailing_contiguous_comment_is_rejected() -> None:
    source = fn("    q.matmul(&k.t()?.contiguous()?) // CONTIGUOUS: transpose produces non-unit strides\n")
    assert found(source) == [(2, "missing-contiguous")]


def test_contiguous_inside_macro_arguments() -> None:
    source = fn(
        "    // CONTIGUOUS: transpose produces non-unit strides\n"
        "    let v = vec![q.matmul(&k.t()?.contiguous()?)?];\n"
        "    let w = vec![q.matmul(&k.t()?.contiguous()?)?];\n"
        "    Ok(x.clone())\n"
    )
    assert found(source) == [(4, "missing-contiguous")]


GROUPED = Settings(select=frozenset(RULES), placement=PlacementOptions(group_annotations=True))
_RUN = (
    "fn f(a: &Tensor, b: &Tensor, c: &Tensor, d: &Tensor) -> Result<()> {\n"
    "    // PROMOTE: the four logits are compared in F32 against the reference\n"
    "    let a = a.to_dtype(DType::F32)?;\n"
    "    let b = b.to_dtype(DType::F32)?;\n"
    "    let c = c.to_dtype(DType::F32)?;\n"
    "\n"
    "    let d = d.to_dtype(DType::F32)?;\n"
    "    Ok(())\n"
    "}\n"
)


def test_group_annotations_cover_the_run_of_statements_up_to_a_blank_line() -> None:
    assert found(_RUN, GROUPED) == [(7, "missing-promote")]


def test_without_group_annotations_each_statement_needs_its_own_comment() -> None:
    assert found(_RUN) == [(4, "missing-promote"), (5, "missing-promote"), (7, "missing-promote")]


def test_group_annotations_do_not_apply_to_safety() -> None:
    source = "fn f() {\n    // SAFETY: g has no preconditions\n    unsafe { g() };\n    unsafe { g() };\n}\n"
    settings = Settings(select=frozenset({"undocumented-unsafe-block"}), placement=PlacementOptions(group_annotations=True))
    assert found(source, settings) == [(4, "undocumented-unsafe-block")]


def test_each_promotion_of_a_chain_gets_the_hint_its_statement_names_after_it() -> None:
    # The statement is found once for the whole chain; each promotion still reads only what follows it.
    source = (
        "fn f(x: Tensor, w: Tensor) -> Result<Tensor> {\n"
        "    let y = x.to_dtype(DType::F32)?.exp()?.to_dtype(DType::F64)?.matmul(&w)?.to_dtype(DType::F32)?;\n"
        "    Ok(y)\n"
        "}\n"
    )
    hints = [d.fix.context["hint"] for d in check(source) if d.rule == "missing-promote"]
    assert hints == ["exp", "matmul", None]


def test_the_receivers_latest_let_before_the_call_decides_among_many_shadowing_ones() -> None:
    source = (
        "fn f(t: Tensor) -> Result<Tensor> {\n"
        "    let x = t.to_dtype(DType::U32)?;\n"
        "    let x = x.to_dtype(DType::F16)?;\n"
        "    let y = x.to_dtype(DType::F32)?;\n"
        "    let x = x.to_dtype(DType::U8)?;\n"
        "    let z = x.to_dtype(DType::F32)?;\n"
        "    let x = { let x = t.to_dtype(DType::BF16)?; x.to_dtype(DType::F32)? };\n"
        "    Ok(y)\n"
        "}\n"
    )
    assert [d.line for d in check(source) if d.rule == "missing-promote"] == [4, 7]
