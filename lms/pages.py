"""Template helpers for listing pages: links that keep the page's arguments, and the pager.

A listing's links (next page, sort order, a removed filter) must keep every other argument of
the current address, repeated ones included (``f.type=Text&f.type=Image``). Templates call
``url_with(page=2)`` instead of rebuilding the arguments themselves: the pager macro once did
that with ``{% set _ = ... %}`` and so replaced the translation function ``_`` (every second
page answered 500).
"""

from __future__ import annotations

from dataclasses import dataclass

from flask import Flask, request, url_for


def url_with(**changes: object) -> str:
    """The current page's address with ``changes`` applied to its query arguments.

    A value of ``None`` removes the argument; a list sets several values. Changing anything
    but ``page`` goes back to the first page (the old page number means nothing any more).
    """
    args: dict[str, list[str]] = {k: list(v) for k, v in request.args.lists()}
    if any(name != "page" for name in changes):
        args.pop("page", None)
    for name, value in changes.items():
        if value is None or value == [] or value == "":
            args.pop(name, None)
        elif isinstance(value, list | tuple):
            args[name] = [str(v) for v in value]
        else:
            args[name] = [str(value)]
    endpoint = request.endpoint or "main.index"
    return url_for(endpoint, **(request.view_args or {}), **args)


@dataclass(frozen=True)
class PageWindow:
    """Which page numbers a pager shows: the first, the last and a few around the current
    one; ``None`` stands for a gap ("…")."""

    number: int
    pages: int

    @property
    def items(self) -> list[int | None]:
        if self.pages <= 1:
            return [1]
        near = {1, self.pages, *range(self.number - 2, self.number + 3)}
        shown = sorted(n for n in near if 1 <= n <= self.pages)
        out: list[int | None] = []
        for n in shown:
            if out and n - (out[-1] or 0) > 1:
                out.append(None)
            out.append(n)
        return out


def page_window(number: int, pages: int) -> PageWindow:
    return PageWindow(number=max(1, min(number, max(pages, 1))), pages=max(pages, 1))


def init_app(app: Flask) -> None:
    from lms import display

    display.init_app(app)
    app.jinja_env.globals.update(url_with=url_with, page_window=page_window)
