"""The site's page frame, style sheet and filter script, and the small HTML helpers the pages
are written with. Everything is escaped here or by the caller with ``esc``; nothing is loaded
from elsewhere at view time."""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from html import escape
from typing import Any

SITE_TITLE = "Police governance ledger: the published record"
SECTIONS = (
    ("index.html", "Overview"),
    ("decisions/index.html", "Decisions"),
    ("plans/index.html", "Plan progress"),
    ("grants.html", "Grants"),
    ("transitions.html", "Transitions"),
    ("reconciliation.html", "Reconciliation"),
    ("data.html", "Open data"),
    ("verify.html", "Check a record"),
)


def esc(value: Any) -> str:
    """Text for HTML; None reads as nothing, lists as comma-separated, other values as JSON."""
    if value is None:
        return ""
    if isinstance(value, list | tuple):
        return escape(", ".join(str(v) for v in value))
    if isinstance(value, dict):
        return escape(json.dumps(value, ensure_ascii=False, sort_keys=True))
    return escape(str(value))


_SAFE = frozenset("abcdefghijklmnopqrstuvwxyz0123456789.-_")


def slug(key: str) -> str:
    """A key as one file name, one to one: '/' reads '~s', ':' '~c', any other character
    outside ``[a-z0-9._-]`` '~u' and six hex digits (keys never hold '~')."""
    out = []
    for char in key:
        if char in _SAFE:
            out.append(char)
        elif char == "/":
            out.append("~s")
        elif char == ":":
            out.append("~c")
        else:
            out.append(f"~u{ord(char):06x}")
    return "".join(out) or "~e"


def table(headers: Sequence[str], rows: Iterable[Sequence[str]], *, caption: str = "",
          cls: str = "", row_attrs: Sequence[str] | None = None, ident: str = "") -> str:
    """A data table; cells are HTML already (escape them with ``esc``)."""
    head = "".join(f'<th scope="col">{escape(h)}</th>' for h in headers)
    body = []
    for i, row in enumerate(rows):
        attrs = f" {row_attrs[i]}" if row_attrs else ""
        body.append(f"<tr{attrs}>" + "".join(f"<td>{cell}</td>" for cell in row) + "</tr>")
    cap = f"<caption>{escape(caption)}</caption>" if caption else ""
    klass = (f' id="{ident}"' if ident else "") + (f' class="{cls}"' if cls else "")
    return (f'<div class="scroll"><table{klass}>{cap}<thead><tr>{head}</tr></thead>'
            f'<tbody>{"".join(body)}</tbody></table></div>')


def definitions(items: Iterable[tuple[str, str]]) -> str:
    """A definition list; values are HTML already."""
    return "<dl>" + "".join(f"<dt>{escape(k)}</dt><dd>{v or '&mdash;'}</dd>"
                            for k, v in items) + "</dl>"


def source(value: Any) -> str:
    if not isinstance(value, dict):
        return esc(value)
    where = f", {value['location']}" if value.get("location") else ""
    return esc(f"{value.get('document', '')}{where}")


def figure(svg: str, caption: str, data_table: str) -> str:
    """A chart with its caption and its data table, the chart's text alternative."""
    return (f'<figure>{svg}<figcaption>{escape(caption)}</figcaption>'
            f'<details class="data"><summary>The chart as a table</summary>{data_table}'
            f'</details></figure>')


def page(*, title: str, body: str, root: str, checkpoint: dict[str, Any], current: str,
         scripts: bool = False) -> str:
    """One page: the frame (skip link, navigation, the checkpoint the page was built from and
    how to check it) around ``body``. ``root`` leads from the page back to the site's top."""
    here = ' aria-current="page"'
    nav = "".join(
        f'<li><a href="{root}{href}"{here if href == current else ""}>{escape(label)}</a></li>'
        for href, label in SECTIONS
    )
    script = f'<script src="{root}assets/site.js"></script>' if scripts else ""
    return f"""<!DOCTYPE html>
<html lang="en-GB">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{escape(title)} | {escape(SITE_TITLE)}</title>
<link rel="stylesheet" href="{root}assets/site.css">
</head>
<body>
<a class="skip" href="#main">Skip to the content</a>
<header>
<p class="site-title"><a href="{root}index.html">{escape(SITE_TITLE)}</a></p>
<nav aria-label="Sections"><ul>{nav}</ul></nav>
</header>
<main id="main" tabindex="-1">
<h1>{escape(title)}</h1>
{body}
</main>
<footer>
<section aria-labelledby="built-from">
<h2 id="built-from">Built from a signed checkpoint</h2>
<p>This page shows the ledger as of <strong>{escape(checkpoint["as_of"])}</strong>, read from
the public copy of the log at <strong>{checkpoint["size"]:,} events</strong> (log
<code>{escape(checkpoint["log_id"])}</code>, Merkle root <code>{escape(checkpoint["root"])}</code>),
built {escape(checkpoint["built_at"])}. The signed checkpoint is
<a href="{root}data/checkpoint.note">data/checkpoint.note</a>; anyone can
<a href="{root}verify.html">check a record against it</a> with the offline verifier.</p>
<details><summary>The signed checkpoint</summary><pre>{escape(checkpoint["note"])}</pre>
</details>
</section>
</footer>
{script}
</body>
</html>
"""


CSS = """
:root { --ink: #1b1b1b; --muted: #505a5f; --line: #b1b4b6; --accent: #1d5fa7;
        --bad: #a4262c; --warn-bg: #fff4ce; --focus: #ffbf47; }
* { box-sizing: border-box; }
body { margin: 0; font: 16px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, Arial,
       sans-serif; color: var(--ink); background: #fff; }
a { color: var(--accent); }
a:focus, button:focus, input:focus, select:focus, summary:focus, main:focus {
  outline: 3px solid var(--focus); outline-offset: 2px; }
.skip { position: absolute; left: -999px; top: 0; background: var(--focus); padding: .5em; }
.skip:focus { left: 0; z-index: 2; }
header { background: #0b2545; color: #fff; padding: .6em 1.2em; }
header a { color: #fff; }
.site-title { margin: 0 0 .3em; font-weight: 700; }
nav ul { list-style: none; margin: 0; padding: 0; display: flex; flex-wrap: wrap; gap: .2em 1.2em; }
nav a[aria-current="page"] { font-weight: 700; text-decoration-thickness: 3px; }
main { padding: 1em 1.2em 2em; max-width: 90em; }
table.register td:nth-child(1) { font-size: .85em; word-break: break-all; min-width: 9em; }
table.register td:nth-child(3) { min-width: 20em; }
footer { border-top: 4px solid #0b2545; padding: .5em 1.2em 2em; background: #f3f2f1;
         font-size: .95em; }
footer pre, .note-text { white-space: pre-wrap; word-break: break-all; background: #fff;
         padding: .6em; border: 1px solid var(--line); }
h1 { font-size: 1.9em; line-height: 1.2; }
.scroll { overflow-x: auto; }
table { border-collapse: collapse; margin: .5em 0 1.5em; min-width: 50%; }
caption { text-align: left; font-weight: 700; padding: .3em 0; }
th, td { border-bottom: 1px solid var(--line); padding: .35em .6em; text-align: left;
         vertical-align: top; }
th { background: #f3f2f1; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
dl { display: grid; grid-template-columns: minmax(10em, max-content) 1fr; gap: .3em 1em; }
dt { font-weight: 700; }
dd { margin: 0; white-space: pre-wrap; }
.flag { display: inline-block; padding: 0 .4em; border: 2px solid var(--bad); color: var(--bad);
        font-weight: 700; font-size: .85em; }
.differs { background: var(--warn-bg); }
.filters { display: flex; flex-wrap: wrap; gap: .8em 1.2em; align-items: flex-end;
           padding: .8em; background: #f3f2f1; margin: 1em 0; border: 1px solid var(--line); }
.filters label { display: flex; flex-direction: column; font-weight: 600; gap: .2em; }
.filters input, .filters select, .filters button { font: inherit; padding: .3em; }
.status { font-weight: 600; }
figure { margin: 1em 0 2em; }
figcaption { font-weight: 600; margin: .3em 0; }
svg.chart { max-width: 100%; height: auto; font-size: 12px; fill: var(--ink); }
svg.chart .grid { stroke: #dddddd; }
svg.chart .axis { stroke: var(--muted); }
svg.chart text { fill: var(--ink); }
.cards { display: grid; grid-template-columns: repeat(auto-fill, minmax(14em, 1fr)); gap: 1em;
         list-style: none; padding: 0; }
.cards li { border: 1px solid var(--line); padding: .8em; }
.cards strong { display: block; font-size: 1.8em; }
code { font-size: .95em; word-break: break-all; }
"""


JS = """
// Filters for the tables marked data-filter: keyboard-usable form controls (labels, native
// inputs and selects), applied as they change; the count is announced to screen readers.
(function () {
  "use strict";
  function norm(text) { return (text || "").toLocaleLowerCase(); }
  document.querySelectorAll("form.filters").forEach(function (form) {
    var table = document.getElementById(form.getAttribute("data-for"));
    var status = document.getElementById(form.getAttribute("data-status"));
    if (!table || !status) { return; }
    var rows = Array.prototype.slice.call(table.tBodies[0].rows);
    function apply() {
      var shown = 0;
      rows.forEach(function (row) {
        var keep = true;
        form.querySelectorAll("[data-field]").forEach(function (control) {
          var field = control.getAttribute("data-field");
          var mode = control.getAttribute("data-mode") || "equals";
          var wanted = control.value;
          if (!wanted) { return; }
          var have = row.getAttribute("data-" + field) || "";
          if (mode === "equals") { keep = keep && have === wanted; }
          else if (mode === "member") { keep = keep && have.split("|").indexOf(wanted) >= 0; }
          else if (mode === "from") { keep = keep && have >= wanted; }
          else if (mode === "to") { keep = keep && have !== "" && have <= wanted; }
          else if (mode === "text") { keep = keep && norm(have).indexOf(norm(wanted)) >= 0; }
        });
        row.hidden = !keep;
        if (keep) { shown += 1; }
      });
      status.textContent = shown + " of " + rows.length + " shown";
    }
    form.addEventListener("input", apply);
    form.addEventListener("change", apply);
    form.addEventListener("reset", function () { window.setTimeout(apply, 0); });
    form.addEventListener("submit", function (event) { event.preventDefault(); apply(); });
    form.hidden = false;
    apply();
  });
}());
"""


def filter_form(table_id: str, controls: Sequence[str], label: str) -> str:
    """A filter form for the table ``table_id``: hidden until the script runs (without a
    script every row shows and no control does nothing)."""
    status = f"{table_id}-status"
    return (f'<form class="filters" role="search" aria-label="{escape(label)}" '
            f'data-for="{table_id}" data-status="{status}" hidden>'
            + "".join(controls)
            + '<button type="reset">Clear filters</button></form>'
            f'<p id="{status}" class="status" role="status" aria-live="polite"></p>')


def select(field: str, label: str, options: Iterable[tuple[str, str]], *,
           mode: str = "equals") -> str:
    opts = "".join(f'<option value="{escape(v)}">{escape(t)}</option>' for v, t in options)
    return (f'<label>{escape(label)}<select name="{field}" data-field="{field}" '
            f'data-mode="{mode}"><option value="">All</option>{opts}</select></label>')


def text_input(field: str, label: str, *, kind: str = "search", mode: str = "text",
               name: str | None = None) -> str:
    return (f'<label>{escape(label)}<input type="{kind}" name="{name or field}" '
            f'data-field="{field}" data-mode="{mode}"></label>')
