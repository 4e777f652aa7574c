"""Text of OOXML (DOCX, PPTX, XLSX) and OpenDocument (ODT, ODP, ODS) files.

We read the XML parts ourselves through :mod:`lms.extract.safezip` and
:mod:`lms.extract.xmltext` rather than through python-docx, python-pptx, openpyxl or odfpy:
those read whole parts with no size budget and each brings its own XML parser settings
(lxml with ``resolve_entities=False``, defusedxml when installed, SAX ...). One reader keeps
the zip-bomb and XXE rules in a single place (``security.md``: one ``parse_xml()``).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from xml.etree.ElementTree import Element

from lms.extract.base import DamagedDocument, RawText
from lms.extract.safezip import SafeZip, resolve_target
from lms.extract.xmltext import BlockSpec, attribute, iter_blocks, iterparse, local_name

_DOCX = BlockSpec(
    blocks=frozenset({"p"}),
    text=frozenset({"t"}),
    inline={"tab": "\t", "br": "\n", "cr": "\n", "noBreakHyphen": "-"},
    # Deleted and moved-away revisions, and the legacy copy of alternate content.
    skip=frozenset({"del", "moveFrom", "Fallback"}),
)
_PPTX = BlockSpec(
    blocks=frozenset({"p"}),
    text=frozenset({"t"}),
    inline={"br": "\n", "tab": "\t"},
    skip=frozenset({"Fallback"}),
)
_SHARED_STRINGS = BlockSpec(
    blocks=frozenset({"si"}),
    text=frozenset({"t"}),
    skip=frozenset({"rPh"}),  # phonetic guides (furigana) repeat the text
)
_ODF = BlockSpec(
    blocks=frozenset({"p", "h"}),
    inline={"s": " ", "tab": "\t", "line-break": "\n"},
    # Tracked deletions, comments and the footnote marks themselves.
    skip=frozenset({"tracked-changes", "annotation", "note-citation"}),
    mixed=True,
)

_REL_OFFICE_DOCUMENT = "/officeDocument"


@dataclass(frozen=True)
class _Rel:
    type: str
    target: str


def _rels_name(part: str) -> str:
    folder, _, name = part.rpartition("/")
    return f"{folder}/_rels/{name}.rels" if folder else f"_rels/{name}.rels"


def _relationships(package: SafeZip, part: str) -> dict[str, _Rel]:
    """``rId -> relationship`` of one part; external targets (URLs) are left out."""
    rels_name = _rels_name(part)
    if not package.has(rels_name):
        return {}
    rels: dict[str, _Rel] = {}
    with package.open(rels_name) as stream:
        for _event, element in iterparse(stream, ("end",)):
            if local_name(element.tag) != "Relationship":
                continue
            if (element.get("TargetMode") or "").lower() == "external":
                continue
            rel_id, rel_type, target = (element.get(k) for k in ("Id", "Type", "Target"))
            if rel_id and rel_type and target:
                rels[rel_id] = _Rel(rel_type, resolve_target(part, target))
    return rels


def _by_type(rels: dict[str, _Rel], suffix: str) -> list[str]:
    # By suffix: transitional and strict OOXML use different relationship-type URIs.
    return [rel.target for rel in rels.values() if rel.type.endswith(suffix)]


def _main_part(package: SafeZip, default: str) -> str:
    """The package's main part (``word/document.xml`` ...), found as OPC says: ``_rels/.rels``."""
    for target in _by_type(_relationships(package, ""), _REL_OFFICE_DOCUMENT):
        if package.has(target):
            return target
    if package.has(default):
        return default
    raise DamagedDocument(detail="no main part")


def _part_blocks(package: SafeZip, part: str, spec: BlockSpec) -> Iterator[str]:
    with package.open(part) as stream:
        yield from iter_blocks(stream, spec)


def extract_docx(path: Path) -> RawText:
    """Body, then footnotes, endnotes, headers and footers (each part once)."""
    with SafeZip(path) as package:
        main = _main_part(package, "word/document.xml")
        rels = _relationships(package, main)
        parts = [main]
        for suffix in ("/footnotes", "/endnotes", "/header", "/footer"):
            parts += [p for p in sorted(_by_type(rels, suffix)) if p not in parts]
        blocks: list[str] = []
        for part in parts:
            if package.has(part):
                blocks.extend(_part_blocks(package, part, _DOCX))
                blocks.append("")
        return RawText("\n".join(blocks))


def extract_pptx(path: Path) -> RawText:
    """Slides in presentation order, each followed by its speaker notes; pages = slides."""
    with SafeZip(path) as package:
        main = _main_part(package, "ppt/presentation.xml")
        rels = _relationships(package, main)
        slide_ids: list[str] = []
        with package.open(main) as stream:
            for _event, element in iterparse(stream, ("end",)):
                if local_name(element.tag) == "sldId":
                    rel_id = attribute(element, "id", namespaced=True)
                    if rel_id:
                        slide_ids.append(rel_id)
        slides = [rels[i].target for i in slide_ids if i in rels and package.has(rels[i].target)]
        chunks: list[str] = []
        for slide in slides:
            chunks.extend(_part_blocks(package, slide, _PPTX))
            for notes in _by_type(_relationships(package, slide), "/notesSlide"):
                if package.has(notes):
                    chunks.extend(_part_blocks(package, notes, _PPTX))
            chunks.append("\f")
        return RawText("\n".join(chunks), pages=len(slides))


def _shared_strings(package: SafeZip, rels: dict[str, _Rel]) -> list[str]:
    for part in _by_type(rels, "/sharedStrings"):
        if package.has(part):
            return list(_part_blocks(package, part, _SHARED_STRINGS))
    return []


def _cell_text(cell: Element, shared: list[str]) -> str:
    kind = cell.get("t", "n")
    if kind == "inlineStr":
        return "".join(t.text or "" for t in cell.iter() if local_name(t.tag) == "t")
    value = next((c.text for c in cell if local_name(c.tag) == "v"), None)
    if value is None or kind in {"e", "b"}:  # error codes and booleans are not text
        return ""
    if kind == "s":
        try:
            return shared[int(value)]
        except (ValueError, IndexError):
            return ""
    return value  # numbers, dates (as serial numbers) and formula string results


def _sheet_rows(package: SafeZip, part: str, shared: list[str]) -> Iterator[str]:
    open_elements: list[Element] = []
    cells: list[str] = []
    with package.open(part) as stream:
        for event, element in iterparse(stream):
            if event == "start":
                open_elements.append(element)
                continue
            open_elements.pop()
            name = local_name(element.tag)
            if name == "c":
                cells.append(_cell_text(element, shared))
            elif name == "row":
                line = "\t".join(c for c in cells if c)
                if line:
                    yield line
                cells = []
            if name in {"c", "row", "sheetData"} or not open_elements:
                element.clear()
                if open_elements:
                    open_elements[-1].remove(element)


def extract_xlsx(path: Path) -> RawText:
    """Each worksheet's name, then its rows (non-empty cells separated by TAB)."""
    with SafeZip(path) as package:
        main = _main_part(package, "xl/workbook.xml")
        rels = _relationships(package, main)
        shared = _shared_strings(package, rels)
        sheets: list[tuple[str, str]] = []
        with package.open(main) as stream:
            for _event, element in iterparse(stream, ("end",)):
                if local_name(element.tag) == "sheet":
                    rel_id = attribute(element, "id", namespaced=True)
                    if rel_id in rels:
                        sheets.append((element.get("name") or "", rels[rel_id].target))
        chunks: list[str] = []
        for name, part in sheets:
            if not package.has(part):
                continue  # chart sheets and dialog sheets have other targets
            chunks.append(name)
            chunks.extend(_sheet_rows(package, part, shared))
            chunks.append("")
        return RawText("\n".join(chunks))


def extract_odf(path: Path, *, count_pages: bool = False) -> RawText:
    """Paragraphs and headings of ``content.xml``; ``count_pages`` counts ODP slides."""
    pages = 0

    def on_start(element: Element) -> None:
        nonlocal pages
        if element.tag == "{urn:oasis:names:tc:opendocument:xmlns:drawing:1.0}page":
            pages += 1

    with SafeZip(path) as package, package.open("content.xml") as stream:
        text = "\n".join(iter_blocks(stream, _ODF, on_start=on_start if count_pages else None))
    return RawText(text, pages=pages if count_pages else None)
