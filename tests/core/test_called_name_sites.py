"""Call sites found by name (`method_name`, `function_name`): only real calls of the names asked for."""

from __future__ import annotations

from safety_ls.core.context import find_sites
from safety_ls.core.parsing import SyntaxUnit, parse

SOURCE = b"""
fn f(x: Tensor, w: Tensor) -> Result<Tensor> {
    // x.contiguous() in a comment
    let s = "x.contiguous()";
    let field = x.contiguous;
    let g = x.r#contiguous();
    let a = x.contiguous_copy()?;
    let b = x.contiguous()?.matmul(&w)?;
    let c = ops::matmul(&a, &b)?;
    let d = matmul(&a, &b)?;
    let e = ops::matmul::<f32>(&a, &b)?;
    Ok(x.contiguous ()?)
}
"""


def parse_unit(data: bytes) -> SyntaxUnit:
    return SyntaxUnit(parse(data).root_node, data)


def _sites(names: frozenset[str]) -> dict[str, list[tuple[int, str]]]:
    unit = parse_unit(SOURCE)
    found = find_sites(unit, names, ("contiguous", "matmul"), ("matmul",))
    return {name: [(node.start_point[0], unit.text(node)) for node in nodes] for name, nodes in found.items()}


def test_method_calls_are_found_by_name_and_nothing_that_only_reads_alike() -> None:
    assert _sites(frozenset({"method_name"})) == {
        "method_name": [(7, "contiguous"), (7, "matmul"), (11, "contiguous")],
    }


def test_function_calls_are_found_plain_or_by_path() -> None:
    assert _sites(frozenset({"function_name"})) == {"function_name": [(8, "matmul"), (9, "matmul")]}


def test_a_long_chain_yields_every_link() -> None:
    chain = b"fn f(t: Tensor) -> Tensor { t" + b".contiguous()?" * 300 + b" }"
    unit = parse_unit(chain)
    assert len(find_sites(unit, frozenset({"method_name"}), ("contiguous",), ())["method_name"]) == 300
