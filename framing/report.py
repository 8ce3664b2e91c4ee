"""Self-contained HTML from the project's small Markdown reports (tables, headings, pictures).

The reports (labelling summary, evaluation) are written as Markdown first; this turns
that Markdown into one HTML file with the pictures inlined, so it can be mailed or
archived without its folder.
"""

from __future__ import annotations

import base64
import html
import io
from typing import Any

_STYLE = "body{font-family:sans-serif;max-width:60em;margin:2em auto}table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #ccc;padding:.3em .6em}"


def markdown_to_html(title: str, markdown: str, pictures: dict[str, bytes]) -> str:
    """Render the subset of Markdown the reports use; ``![alt](name.png)`` inlines ``pictures[name]``."""
    body: list[str] = []
    table: list[str] = []
    for line in markdown.splitlines():
        if line.startswith("|"):
            cells = [c.strip() for c in line.strip("|").split("|")]
            if not set("".join(cells)) <= set("-"):
                tag = "th" if not table else "td"
                table.append(
                    "<tr>" + "".join(f"<{tag}>{html.escape(c)}</{tag}>" for c in cells) + "</tr>"
                )
            continue
        if table:
            body.append("<table>" + "".join(table) + "</table>")
            table = []
        if line.startswith("![") and "(" in line:
            name = line[line.index("(") + 1 : line.rindex(")")].removesuffix(".png")
            if name in pictures:
                data = base64.b64encode(pictures[name]).decode("ascii")
                body.append(f'<img alt="{html.escape(name)}" src="data:image/png;base64,{data}">')
        elif line.startswith("#"):
            level = len(line) - len(line.lstrip("#"))
            body.append(f"<h{level}>{html.escape(line.lstrip('#').strip())}</h{level}>")
        elif line.startswith("- "):
            body.append(f"<p>&bull; {html.escape(line[2:])}</p>")
        elif line.strip():
            body.append(f"<p>{html.escape(line)}</p>")
    if table:
        body.append("<table>" + "".join(table) + "</table>")
    return f"<!doctype html><html><head><meta charset='utf-8'><title>{html.escape(title)}</title><style>{_STYLE}</style></head><body>{''.join(body)}</body></html>\n"


def figure_png(fig: Any) -> bytes:
    """A matplotlib figure as PNG bytes (the figure is closed)."""
    import matplotlib.pyplot as plt

    buffer = io.BytesIO()
    fig.savefig(buffer, format="png")
    plt.close(fig)
    return buffer.getvalue()
