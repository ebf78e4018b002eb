"""Tables used for page layout, turned into plain blocks before main-text extraction.

Old news sites lay pages out with tables: trafilatura reads such a table as
data, the navigation column included, so its cells become divs.  A cell's
loose text (text beside a <p>, a <th>, a <caption>) would then sit directly in
a div nested in divs beside <p> siblings, where trafilatura drops it (measured
on small layout tables: two of three paragraphs lost when one sat in a header
cell, one when it sat in a caption, a text-only cell or before a cell's first
<p>).  So inside a layout table, runs of loose text are wrapped in <p>, and a
block holding only text is a <p>.
"""

from __future__ import annotations

from lxml import etree

_LAYOUT_CELL_CONTENT = ".//td//*[self::p or self::h1 or self::h2 or self::h3 or self::div or self::table or self::ul]"
_TABLE_PARTS = ("tbody", "thead", "tfoot", "tr", "td", "th", "caption")
_CELLS = frozenset({"td", "th", "caption"})
_BLOCKS = frozenset({"p", "div", "table", "ul", "ol", "dl", "h1", "h2", "h3", "h4", "h5", "h6", "blockquote",
                     "pre", "hr", "form", "section", "article", "header", "footer", "aside", "nav", "figure",
                     "center", "address", "main"})


def unwrap_layout_tables(tree) -> None:
    """Turn tables used for page layout into divs, keeping every cell's text in a block of its own.

    A table whose cells hold paragraphs, headings or other tables is layout, not data.
    """
    for table in list(tree.iter("table")):
        if not table.xpath(_LAYOUT_CELL_CONTENT):
            continue
        own = [e for e in table.iter(*_TABLE_PARTS) if e.xpath("ancestor::table[1]")[0] is table]
        for elem in own:
            if elem.tag in _CELLS and any(_is_block(c) for c in elem):
                _wrap_loose_text(elem)
        for elem in [table, *own]:
            elem.tag = "div"
        for elem in [table, *table.iter("div")]:
            if not any(_is_block(c) for c in elem) and "".join(elem.itertext()).strip():
                elem.tag = "p"  # a block of text inside the layout is a paragraph


def _is_block(node) -> bool:
    return isinstance(node.tag, str) and node.tag.lower() in _BLOCKS


def _wrap_loose_text(cell) -> None:
    """Runs of text and inline elements between a cell's block children become <p> elements."""
    children = list(cell)
    runs: list[tuple[str, list]] = []  # (leading text, inline elements) before each block, and at the end
    text, inline = cell.text or "", []
    blocks = []
    for child in children:
        if _is_block(child):
            runs.append((text, inline))
            blocks.append(child)
            text, inline = child.tail or "", []
            child.tail = None
        else:
            inline.append(child)
    runs.append((text, inline))
    cell.text = None
    for child in children:
        cell.remove(child)
    for position, (lead, elements) in enumerate(runs):
        if lead.strip() or any(_has_text(e) for e in elements):
            para = etree.SubElement(cell, "p")
            para.text = lead
            para.extend(elements)
        elif elements:  # an empty anchor or image keeps its place
            cell.extend(elements)
        if position < len(blocks):
            cell.append(blocks[position])


def _has_text(elem) -> bool:
    return bool("".join(elem.itertext()).strip() or (elem.tail or "").strip())
