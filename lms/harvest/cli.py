"""``lms harvest``: register, list and run OAI-PMH sources from the command line."""

from __future__ import annotations

import sys

import click
from flask.cli import AppGroup

harvest_group = AppGroup("harvest", help="Harvest other repositories over OAI-PMH.")


def _fail(message: str) -> None:
    click.echo(f"Error: {message}", err=True)
    sys.exit(1)


@harvest_group.command("add")
@click.argument("name")
@click.option("--title", required=True, help="What the source is called.")
@click.option("--url", "base_url", required=True, help="The OAI-PMH base URL.")
@click.option("--prefix", "metadata_prefix", default="oai_dc", show_default=True,
              type=click.Choice(["oai_dc", "qdc"]), help="Metadata format to harvest.")
@click.option("--collection", required=True, help="Slug of the collection records go to.")
@click.option("--set", "sets", multiple=True, help="A setSpec to harvest (repeatable; "
              "none: the whole repository).")
@click.option("--access", "access_level", default="public", show_default=True,
              type=click.Choice(["public", "internal"]), help="Access of harvested records.")
@click.option("--schedule", default="daily", show_default=True,
              type=click.Choice(["manual", "hourly", "daily", "weekly"]))
@click.option("--as", "admin_name", required=True,
              help="The administrator the source is registered by (withdrawals are theirs).")
def harvest_add(name: str, title: str, base_url: str, metadata_prefix: str, collection: str,
                sets: tuple[str, ...], access_level: str, schedule: str, admin_name: str) -> None:
    """Register the source NAME ([a-z0-9-])."""
    from lms.auth.services import find_user
    from lms.errors import ServiceError
    from lms.harvest.services import SourceInput, register_source

    admin = find_user(admin_name)
    if admin is None:
        _fail(f"no user {admin_name}")
    try:
        source = register_source(admin, SourceInput(
            name=name, title=title, base_url=base_url, metadata_prefix=metadata_prefix,
            collection=collection, sets=" ".join(sets), access_level=access_level,
            schedule=schedule))
    except ServiceError as error:
        _fail(error.message)
    click.echo(f"Registered {source.name} ({source.base_url}).")


@harvest_group.command("list")
def harvest_list() -> None:
    """Every source, its schedule and its last run."""
    from lms.harvest.services import all_sources, last_runs

    runs = last_runs()
    for source in all_sources():
        run = runs.get(source.id)
        last = f"{run.status} {run.started_at:%Y-%m-%d %H:%M}Z" if run else "never run"
        click.echo(f"{source.name:<24} {source.metadata_prefix:<7} {source.schedule:<7} "
                   f"{'active' if source.active else 'paused':<7} {last}  {source.base_url}")


@harvest_group.command("run")
@click.argument("source")
def harvest_run(source: str) -> None:
    """Harvest SOURCE (name or id) now, from its last complete harvest on.

    Exit status 1 if the source could not be read or some records failed.
    """
    from lms.errors import ServiceError
    from lms.harvest.services import run_harvest

    try:
        run = run_harvest(source, progress=lambda pages, text: click.echo(
            f"page {pages}: {text}"))
    except ServiceError as error:
        _fail(error.message)
    click.echo(f"{run.status}: {run.message or '-'} ({run.pages} page(s), from "
               f"{run.from_date or 'the beginning'})")
    for identifier, message in run.problems:
        click.echo(f"  {identifier}: {message}")
    if run.status == "failed" or run.counts.get("error"):
        sys.exit(1)
