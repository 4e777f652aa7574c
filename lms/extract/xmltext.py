"""Streaming text out of OOXML and ODF XML parts, on defusedxml only.

This is the one XML entry point of the extractor. ``forbid_dtd=True``: no OOXML or ODF part
legitimately has a DOCTYPE, so any DTD (external entities, billion laughs, external DTD) is
refused at once, before a single entity is declared.

Text is collected per *block* (a paragraph: ``w:p``, ``a:p``, ``text:p``/``text:h``, or a
shared string ``si``). Elements are matched by local name, so the transitional and strict
OOXML namespaces both work. Each outermost block is walked when it ends and then dropped from
the tree, so memory stays proportional to one paragraph, not to the part.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import IO
from xml.etree.ElementTree import Element, ParseError

import defusedxml.ElementTree as SafeET
from defusedxml import DefusedXmlException

from lms.extract.base import UNSAFE_XML, DamagedDocument, RefusedDocument

_XML_SPACE = re.compile(r"[ \t\r\n]+")


@dataclass(frozen=True)
class BlockSpec:
    """Which elements make paragraphs and what their content turns into."""

    blocks: frozenset[str]
    #: elements whose own text is document text (``w:t``, ``a:t``); ignored when ``mixed``
    text: frozenset[str] = frozenset()
    #: empty elements standing for a character (``w:tab`` -> TAB, ``text:line-break`` -> LF)
    inline: dict[str, str] = field(default_factory=dict)
    #: subtrees never read (deleted text, alternative content fallbacks, comments)
    skip: frozenset[str] = frozenset()
    #: ODF style: all text and tails count, and XML white space collapses to one space
    mixed: bool = False


def local_name(tag: object) -> str:
    """``{namespace}name`` -> ``name`` (comments and processing instructions give '')."""
    if not isinstance(tag, str):
        return ""
    return tag.rpartition("}")[2]


def attribute(element: Element, name: str, *, namespaced: bool = False) -> str | None:
    """An attribute by local name; ``namespaced`` picks ``r:id`` rather than a plain ``id``."""
    for key, value in element.attrib.items():
        if key.startswith("{") != namespaced:
            continue
        if local_name(key) == name:
            return value
    return None


def iterparse(source: IO[bytes], events: tuple[str, ...] = ("start", "end")) -> Iterator:
    """``(event, element)`` pairs from a hostile XML stream.

    :raise RefusedDocument: a DOCTYPE, entity declaration or external reference.
    :raise DamagedDocument: malformed XML.
    """
    try:
        yield from SafeET.iterparse(source, events=events, forbid_dtd=True)
    except DefusedXmlException as exc:
        raise RefusedDocument(UNSAFE_XML, detail=type(exc).__name__) from None
    except ParseError:
        raise DamagedDocument(detail="malformed XML") from None


def iter_blocks(
    source: IO[bytes],
    spec: BlockSpec,
    *,
    on_start: Callable[[Element], None] | None = None,
) -> Iterator[str]:
    """The text of every block in document order, one string per block (possibly empty).

    ``on_start`` sees every element as it opens (to count slides or pages).
    """
    open_elements: list[Element] = []
    block_depth = 0
    skip_depth = 0
    for event, element in iterparse(source):
        name = local_name(element.tag)
        if event == "start":
            open_elements.append(element)
            if on_start is not None:
                on_start(element)
            if name in spec.skip:
                skip_depth += 1
            elif name in spec.blocks:
                block_depth += 1
            continue
        open_elements.pop()
        if name in spec.skip:
            skip_depth -= 1
        elif name in spec.blocks:
            block_depth -= 1
            if block_depth == 0 and skip_depth == 0:
                yield from _walk_block(element, spec)
        if block_depth == 0:
            # Done with this subtree: drop it so a long part never sits in memory whole.
            element.clear()
            if open_elements:
                open_elements[-1].remove(element)


def _walk_block(block: Element, spec: BlockSpec) -> list[str]:
    """Texts of ``block`` and of blocks nested in it (text boxes, notes), in start order.

    Iterative, so deep nesting cannot exhaust the Python stack.
    """
    results: list[str] = []
    buffers: list[tuple[int, list[str]]] = []
    # ("start", el) opens an element, ("end", el) closes a block, ("tail", el) adds el.tail.
    stack: list[tuple[str, Element]] = [("start", block)]

    def add(text: str | None) -> None:
        if text and buffers:
            buffers[-1][1].append(_XML_SPACE.sub(" ", text) if spec.mixed else text)

    while stack:
        kind, element = stack.pop()
        if kind == "tail":
            if spec.mixed:
                add(element.tail)
            continue
        if kind == "end":
            index, parts = buffers.pop()
            results[index] = "".join(parts)
            continue
        name = local_name(element.tag)
        if name in spec.skip:
            continue
        if name in spec.blocks:
            results.append("")
            buffers.append((len(results) - 1, []))
            stack.append(("end", element))
        if spec.mixed or name in spec.text:
            add(element.text)
        if name in spec.inline and buffers:
            buffers[-1][1].append(spec.inline[name])
        for child in reversed(element):
            stack.append(("tail", child))
            stack.append(("start", child))
    return results
