"""The audit report as one self-contained HTML page: inline CSS and SVG charts, no scripts, no external resources.

For people who would rather look than read: the overall risk, per-crate bars
of documented against undocumented unsafe sites, the share of lines inside
unsafe code against the gate, categories with their risk and status,
annotation coverage, then the tables. Crates without unsafe code are folded
into one line, and the undocumented sites into one foldable section per
crate, so a workspace of hundreds of crates and thousands of sites stays
readable; the charts scale down and wide tables scroll inside themselves, so
the page itself never scrolls sideways, on a laptop or a phone.
Every text from the report is escaped.
"""

from __future__ import annotations

from collections import Counter
from html import escape
from typing import Any, Sequence

DOCUMENTED = "#2da44e"
PLACEHOLDER = "#d4a72c"
UNDOCUMENTED = "#cf222e"
UNSAFE_LINES = "#0969da"
TRACK = "#eaeef2"
SEED_GATE_PERCENT = 5.0  # mistral.rs's CI gate on the unsafe share, drawn when no gate is given

_STYLE = """
body { font-family: system-ui, -apple-system, "Segoe UI", "DejaVu Sans", sans-serif; margin: 2rem auto;
       max-width: 1100px; padding: 0 1.5rem; color: #1f2328; background: #ffffff; line-height: 1.45; }
h1 { font-size: 1.7rem; margin-bottom: .2rem; } h2 { font-size: 1.25rem; margin-top: 2.2rem; }
.meta { color: #59636e; margin-top: 0; }
.cards { display: flex; flex-wrap: wrap; gap: 1rem; margin: 1.5rem 0; }
.card { flex: 1; border: 1px solid #d1d9e0; border-radius: 10px; padding: .9rem 1.2rem; min-width: 8rem; background: #f6f8fa; }
.card b { display: block; font-size: 1.9rem; } .card span { color: #59636e; }
.bad b { color: #cf222e; } .good b { color: #1a7f37; }
.scroll { overflow-x: auto; max-width: 100%; }
table { border-collapse: collapse; margin: .5rem 0 1rem; font-size: .92rem; }
table.sites { table-layout: fixed; width: 100%; }
table.sites td, table.sites th { overflow-wrap: anywhere; }
table.sites col.location { width: 30%; } table.sites col.kind { width: 13%; } table.sites col.category { width: 15%; }
table.sites col.crate { width: 12%; } table.sites col.line { width: 30%; }
details { margin: .3rem 0; } summary { cursor: pointer; padding: .2rem 0; }
@media (max-width: 640px) {
  body { margin: 1rem auto; padding: 0 .8rem; }
  .cards { gap: .5rem; } .card { min-width: 6.5rem; padding: .5rem .7rem; } .card b { font-size: 1.35rem; }
}
.risk-HIGH { color: #cf222e; font-weight: 600; } .risk-MEDIUM { color: #9a6700; font-weight: 600; } .risk-LOW { color: #1a7f37; }
th, td { border-bottom: 1px solid #d1d9e0; padding: .3rem .7rem; text-align: left; vertical-align: top; }
th { background: #f6f8fa; } td.n { text-align: right; font-variant-numeric: tabular-nums; }
code { font-family: ui-monospace, "DejaVu Sans Mono", monospace; font-size: .88em; }
.legend span { display: inline-block; margin-right: 1.2rem; }
.legend i { display: inline-block; width: .9rem; height: .9rem; border-radius: 2px; margin-right: .35rem; vertical-align: -2px; }
svg { width: 100%; min-width: 560px; height: auto; } svg text { font-family: inherit; font-size: 13px; fill: #1f2328; }
.passed { color: #1a7f37; } .failed { color: #cf222e; font-weight: 600; }
"""

_LABEL_WIDTH, _BAR_WIDTH, _ROW, _VALUE_WIDTH = 230, 600, 26, 150


def _percent(value: float | None) -> str:
    if value is None:
        return "n/a"
    return "<0.1%" if 0 < value < 0.1 else f"{value:.1f}%"


def _bars(rows: Sequence[tuple[str, Sequence[tuple[float, str, str]], str]], scale: float, marker: tuple[float, str] | None = None) -> str:
    """Horizontal stacked bars: (label, [(value, colour, tooltip)], text after the bar) per row."""
    scale = scale or 1.0
    height = _ROW * len(rows) + (22 if marker else 8)
    width = _LABEL_WIDTH + _BAR_WIDTH + _VALUE_WIDTH
    # No width or height: the chart takes the column's width (up to its own) and keeps its proportions.
    parts = [f'<div class="scroll"><svg role="img" style="max-width:{width}px" viewBox="0 0 {width} {height}">']
    for index, (label, segments, after) in enumerate(rows):
        y = index * _ROW + 4
        shown = label if len(label) <= 30 else label[:29] + "…"
        parts.append(f'<text x="{_LABEL_WIDTH - 8}" y="{y + 14}" text-anchor="end"><title>{escape(label)}</title>{escape(shown)}</text>')
        parts.append(f'<rect x="{_LABEL_WIDTH}" y="{y}" width="{_BAR_WIDTH}" height="18" fill="{TRACK}" rx="3"/>')
        x = float(_LABEL_WIDTH)
        for value, colour, tooltip in segments:
            if value <= 0:
                continue
            span = max(_BAR_WIDTH * min(value / scale, 1.0), 2.0)
            parts.append(f'<rect x="{x:.1f}" y="{y}" width="{span:.1f}" height="18" fill="{colour}"><title>{escape(tooltip)}</title></rect>')
            x += span
        parts.append(f'<text x="{_LABEL_WIDTH + _BAR_WIDTH + 8}" y="{y + 14}">{escape(after)}</text>')
    if marker is not None:
        value, caption = marker
        x = _LABEL_WIDTH + _BAR_WIDTH * min(value / scale, 1.0)
        bottom = _ROW * len(rows) + 4
        parts.append(f'<line x1="{x:.1f}" y1="0" x2="{x:.1f}" y2="{bottom}" stroke="#1f2328" stroke-width="2" stroke-dasharray="5 3"/>')
        parts.append(f'<text x="{x:.1f}" y="{bottom + 14}" text-anchor="middle">{escape(caption)}</text>')
    parts.append("</svg></div>")
    return "".join(parts)


def _site_segments(counts: dict[str, Any], placeholders: int = 0) -> list[tuple[float, str, str]]:
    undocumented = counts["total"] - counts["documented"] - placeholders
    return [
        (counts["documented"], DOCUMENTED, f"{counts['documented']} documented"),
        (placeholders, PLACEHOLDER, f"{placeholders} with a template placeholder"),
        (undocumented, UNDOCUMENTED, f"{undocumented} undocumented"),
    ]


def _with_unsafe(report: dict[str, Any]) -> list[dict[str, Any]]:
    return [crate for crate in report["crates"] if crate["sites"]["total"] or crate["unsafe_lines"]]


def _crate_sites_chart(report: dict[str, Any]) -> str:
    crates = _with_unsafe(report)
    rows = []
    for crate in crates:
        sites = crate["sites"]
        segments = _site_segments(sites, sites["placeholder"])
        rows.append((crate["name"], segments, f"{sites['documented']}/{sites['total']} documented"))
    return _bars(rows, max((crate["sites"]["total"] for crate in crates), default=0))


def _unsafe_share_chart(report: dict[str, Any]) -> str:
    gate = next((g["limit"] for g in report["gates"] if g["gate"] == "max-unsafe-percent"), None)
    limit = float(gate) if gate is not None else SEED_GATE_PERCENT
    rows = []
    for crate in _with_unsafe(report):
        share = crate["unsafe_percent"] or 0.0
        colour = UNDOCUMENTED if share > limit else UNSAFE_LINES
        rows.append((crate["name"], [(share, colour, f"{_percent(share)} of {crate['lines']} lines")], _percent(share)))
    top = max([limit * 1.25] + [crate["unsafe_percent"] or 0.0 for crate in _with_unsafe(report)])
    caption = f"gate {limit:g}%" if gate is not None else f"{limit:g}% (mistral.rs gate)"
    return _bars(rows, top, (limit, caption))


def _category_chart(categories: dict[str, Any]) -> str:
    rows = [
        (name, _site_segments(counts), f"{counts['documented']}/{counts['total']} documented")
        for name, counts in categories.items()
        if counts["total"]
    ]
    return _bars(rows, max((counts["total"] for counts in categories.values()), default=0))


def _annotation_chart(annotations: dict[str, Any]) -> str:
    rows = []
    for tag, counts in annotations.items():
        missing = counts["sites"] - counts["annotated"]
        segments = [
            (counts["annotated"], DOCUMENTED, f"{counts['annotated']} annotated"),
            (missing, UNDOCUMENTED, f"{missing} without // {tag}:"),
        ]
        rows.append((f"// {tag}:", segments, f"{counts['annotated']}/{counts['sites']} ({_percent(counts['percent'])})"))
    return _bars(rows, max((counts["sites"] for counts in annotations.values()), default=0))


def _table(headers: Sequence[str], rows: Sequence[Sequence[Any]], numeric: Sequence[int] = (), columns: str = "") -> str:
    """A table that scrolls inside itself when it is wider than the page; `columns` sets a fixed layout."""
    head = "".join(f"<th>{escape(h)}</th>" for h in headers)
    body = []
    for row in rows:
        cells = "".join(
            f'<td class="n">{escape(str(cell))}</td>' if index in numeric else f"<td>{cell}</td>" for index, cell in enumerate(row)
        )
        body.append(f"<tr>{cells}</tr>")
    opening = f'<table class="sites"><colgroup>{columns}</colgroup>' if columns else "<table>"
    return f'<div class="scroll">{opening}<thead><tr>{head}</tr></thead><tbody>{"".join(body)}</tbody></table></div>'


_SITE_COLUMNS = "".join(f'<col class="{name}">' for name in ("location", "kind", "category", "crate", "line"))


def _sites_table(sites: list[dict[str, Any]]) -> str:
    return _table(["Location", "Kind", "Category", "Crate", "Line"], _site_rows(sites), columns=_SITE_COLUMNS)


def _location(site: dict[str, Any]) -> str:
    return f"<code>{escape(site['path'])}:{site['line']}</code>"


def _site_rows(sites: list[dict[str, Any]]) -> list[list[str]]:
    return [
        [_location(site), escape(f"unsafe {site['kind']}") + (" (placeholder)" if site["annotation"] == "placeholder" else ""),
         escape(site["category"]), escape(site["crate"]), f"<code>{escape(site['text'][:120])}</code>"]
        for site in sites
    ]


def _legend() -> str:
    items = ((DOCUMENTED, "documented"), (PLACEHOLDER, "template placeholder"), (UNDOCUMENTED, "undocumented"))
    return '<p class="legend">' + "".join(f'<span><i style="background:{c}"></i>{escape(t)}</span>' for c, t in items) + "</p>"


def why_unchecked(launch: dict[str, Any]) -> str:
    """The reason a launch was not compared with its kernel, read from its JSON fields."""
    if not launch["kernel"]:
        return "kernel name not visible"
    if not launch["definition"]:
        return "kernel not found"
    return "arguments not visible" if launch["arguments"] is None else "candidate kernels disagree"


def _launch_section(launches: list[dict[str, Any]]) -> list[str]:
    checked = sum(launch["checked"] for launch in launches)
    rows = [
        [_location(launch), f"<code>{escape(launch['kernel'])}</code>" if launch["kernel"] else "?", escape(launch["form"]),
         "?" if launch["arguments"] is None else len(launch["arguments"]),
         f"<code>{escape(launch['definition'])}</code>" if launch["definition"] else "-",
         "checked" if launch["checked"] else escape(why_unchecked(launch))]
        for launch in launches
    ]
    return [f"<h2>Kernel launches ({checked}/{len(launches)} checked)</h2>",
            _table(["Location", "Kernel", "Form", "Arguments", "Definition", "Checked"], rows)]


def _compare_section(compare: dict[str, Any]) -> list[str]:
    parts = [f"<h2>Changes since the last audit{' (' + escape(compare['previous_date']) + ')' if compare.get('previous_date') else ''}</h2>"]
    parts.append(f"<p>Undocumented sites: {compare['previous_undocumented']} then, {compare['undocumented']} now.</p>")
    for title, key in (("New undocumented sites", "new_undocumented"), ("Newly documented sites", "newly_documented"), ("Undocumented sites removed", "removed_undocumented")):
        sites = compare[key]
        parts.append(f"<h3>{escape(title)} ({len(sites)})</h3>")
        if sites:
            parts.append(_sites_table(sites))
    return parts


def _risk(level: str) -> str:
    return f'<span class="risk-{escape(level)}">{escape(level)}</span>'


def _category_section(summary: dict[str, Any]) -> list[str]:
    """mistral.rs's inventory: each category's count, documented share, risk level and status; the overall risk."""
    categories = summary["categories"]
    rows = [
        [escape(name), counts["total"], counts["documented"], _percent(counts["documented_percent"]), _risk(counts["risk"]),
         "✅ approved" if counts["status"] == "approved" else "⚠️ needs docs"]
        for name, counts in categories.items()
        if counts["total"]
    ]
    parts = ["<h2>Unsafe sites by category</h2>", _category_chart(categories)]
    if rows:
        parts.append(_table(["Category", "Sites", "Documented", "Share", "Risk level", "Status"], rows, numeric=(1, 2, 3)))
    parts.append(f"<p><b>Overall risk: {_risk(summary['overall_risk'])}</b> (the highest risk among the categories that need docs)</p>")
    return parts


def _crate_section(report: dict[str, Any]) -> list[str]:
    crate_rows = [
        [escape(c["name"]), c["files"], c["lines"], c["unsafe_blocks"]["total"], c["unsafe_fns"]["total"], c["unsafe_impls"]["total"],
         _percent(c["unsafe_percent"]), f'{c["sites"]["documented"]}/{c["sites"]["total"]}', c["sites"]["undocumented"]]
        for c in _with_unsafe(report)
    ]
    parts = [
        "<h2>Crates</h2>",
        _table(["Crate", "Files", "Lines", "Unsafe blocks", "Unsafe fns", "Unsafe impls", "Lines in unsafe", "Documented", "Undocumented"],
               crate_rows, numeric=(1, 2, 3, 4, 5, 6, 7, 8)),
    ]
    safe = [c["name"] for c in report["crates"] if not (c["sites"]["total"] or c["unsafe_lines"])]
    if safe:
        parts.append(f"<details><summary>{len(safe)} crate{'s' if len(safe) != 1 else ''} without unsafe code</summary>"
                     f"<p>{escape(', '.join(safe))}</p></details>")
    return parts


_TARGET_LABELS = {"src": "library and binaries (src)", "tests": "tests", "examples": "examples", "benches": "benchmarks"}


def _target_section(report: dict[str, Any]) -> list[str]:
    targets = report["summary"].get("targets", {})
    audited = report.get("targets_audited", list(_TARGET_LABELS))
    if len(targets) < 2 and len(audited) == len(_TARGET_LABELS):
        return []
    rows = [
        [escape(_TARGET_LABELS[name]), t["files"], t["sites"]["total"], t["sites"]["documented"], _percent(t["unsafe_percent"])]
        for name, t in targets.items()
    ]
    note = "" if len(audited) == len(_TARGET_LABELS) else f"<p>Audited targets: {escape(', '.join(audited))} (<code>--targets</code>).</p>"
    return ["<h2>By Cargo target</h2>", note, _table(["Target", "Files", "Unsafe sites", "Documented", "Lines in unsafe"], rows, numeric=(1, 2, 3, 4))]


def _undocumented_section(report: dict[str, Any]) -> list[str]:
    undocumented = [site for site in report["sites"] if not site["documented"]]
    parts = [f"<h2>Undocumented sites ({len(undocumented)})</h2>"]
    if not undocumented:
        return parts + ["<p>Every unsafe site carries a written justification.</p>"]
    by_crate: dict[str, list[dict[str, Any]]] = {}
    for site in undocumented:
        by_crate.setdefault(site["crate"], []).append(site)
    parts.append("<p>One section per crate, most undocumented sites first; open one to see its sites.</p>")
    for crate, sites in sorted(by_crate.items(), key=lambda item: (-len(item[1]), item[0])):
        categories = ", ".join(f"{count} {name}" for name, count in Counter(site["category"] for site in sites).most_common())
        parts.append(f"<details><summary><b>{escape(crate)}</b>: {len(sites)} ({escape(categories)})</summary>{_sites_table(sites)}</details>")
    return parts


def render_html(report: dict[str, Any]) -> str:
    summary = report["summary"]
    sites = summary["sites"]
    title = f"Unsafe code audit: {report['root']}"
    risk = summary["overall_risk"]
    cards = [
        (f"risk-{risk}", risk, "overall risk"),
        ("", str(sites["total"]), "unsafe sites"),
        ("good" if sites["undocumented"] == 0 else "", _percent(summary["documented_percent"]), "documented"),
        ("bad" if sites["undocumented"] else "good", str(sites["undocumented"]), "undocumented"),
        ("", _percent(summary["unsafe_percent"]), f"of {summary['lines']} lines inside unsafe"),
        ("", str(summary["crates"]), "crates"),
    ]
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{escape(title)}</title><style>{_STYLE}</style></head><body>",
        f"<h1>{escape(title)}</h1>",
        f'<p class="meta">{escape(report["date"])} · {escape(report["tool"])} · {summary["files"]} files</p>',
        '<div class="cards">'
        + "".join(f'<div class="card {cls}"><b>{escape(value)}</b><span>{escape(label)}</span></div>' for cls, value, label in cards)
        + "</div>",
    ]
    failed = [gate for gate in report["gates"] if not gate["passed"]]
    if report["gates"]:
        rows = [
            [f"<code>--{escape(g['gate'])}</code>", g["limit"], g["value"],
             f'<span class="{"passed" if g["passed"] else "failed"}">{"passed" if g["passed"] else "failed"}</span>: {escape(g["detail"])}']
            for g in report["gates"]
        ]
        parts += [f"<h2>CI gates: {'failed' if failed else 'passed'}</h2>", _table(["Gate", "Limit", "Value", "Result"], rows, numeric=(1, 2))]
    parts += ["<h2>Unsafe sites per crate</h2>", _legend(), _crate_sites_chart(report)]
    parts += ["<h2>Lines inside unsafe code, per crate</h2>", _unsafe_share_chart(report)]
    parts += _category_section(summary)
    parts += ["<h2>Annotation coverage</h2>", _annotation_chart(summary["annotations"])]
    parts += _crate_section(report)
    parts += _target_section(report)
    parts += _undocumented_section(report)
    if report.get("launches"):
        parts += _launch_section(report["launches"])
    if report.get("compare"):
        parts += _compare_section(report["compare"])
    if report["errors"]:
        parts.append("<h2>Files not audited</h2><ul>")
        parts += [f"<li><code>{escape(e['path'])}</code>: {escape(e['error'])}</li>" for e in report["errors"]]
        parts.append("</ul>")
    parts.append("</body></html>\n")
    return "\n".join(parts)
