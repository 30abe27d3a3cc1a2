"""How the command line reads: switches as switches, help wrapped by the terminal, lazy commands.

Typer shows a boolean flag as `--json <bool>` and keeps a docstring's hand-made line
breaks; every command passes through `tidy` on its way out of a group, so all of them
read the same way whatever their authors wrote. The option declarations several commands
share (the rate limits) live here too, so `cli.py` stays a list of commands.
"""

from __future__ import annotations

import inspect
from importlib import import_module
from typing import Annotated, ClassVar

import typer

# Typer 0.29 vendors click as `typer._click`; its types are what TyperGroup's hooks take.
from typer._click.core import Command, Context
from typer._click.formatting import HelpFormatter
from typer.core import TyperGroup, TyperOption


def reflow(text: str | None) -> str | None:
    """Join the hand-wrapped lines of each paragraph, so the terminal wraps the help text."""
    if not text:
        return text
    paragraphs = inspect.cleandoc(text).split("\n\n")
    return "\n\n".join(" ".join(line.strip() for line in p.splitlines()) for p in paragraphs)


def tidy(command: Command, ctx: Context) -> Command:
    """Show switches as switches (`--json`, not `--json <bool>`) and reflow the help text."""
    for param in command.get_params(ctx):
        if isinstance(param, TyperOption) and param.is_flag:
            param.metavar = ""
            if param.is_bool_flag and param.default is False:
                param.secondary_opts = []  # a switch that is off by default needs no --no-x
    command.help = reflow(command.help)
    return command


class LazyCommands(TyperGroup):
    """Commands whose code loads only when they run (or help lists them).

    `frontscan status` and `scan` from cron must not import the simulator (its servers,
    mailbox and scenarios) just because `simulate` is one of the commands. Every command
    handed out passes through `tidy`, so the help of all of them reads the same way.
    """

    lazy: ClassVar[dict[str, str]] = {}

    def list_commands(self, ctx: Context) -> list[str]:
        return [*super().list_commands(ctx), *(n for n in self.lazy if n not in self.commands)]

    def get_command(self, ctx: Context, cmd_name: str) -> Command | None:
        if cmd_name in self.lazy and cmd_name not in self.commands:
            module, _, name = self.lazy[cmd_name].partition(":")
            single = typer.Typer(add_completion=False, pretty_exceptions_enable=False)
            single.command(cmd_name)(getattr(import_module(module), name))
            self.add_command(typer.main.get_command(single), cmd_name)
        command = super().get_command(ctx, cmd_name)
        return None if command is None else tidy(command, ctx)

    def format_help(self, ctx: Context, formatter: HelpFormatter) -> None:
        tidy(self, ctx)
        super().format_help(ctx, formatter)


class RootCommands(LazyCommands):
    """The top level: `simulate` loads only when it runs or help lists it."""

    lazy: ClassVar[dict[str, str]] = {"simulate": "frontscan.simulator.command:simulate"}


FrontRpmOption = Annotated[
    int | None,
    typer.Option(
        "--front-rpm",
        help="Front requests per minute for the whole company; 0 learns it from Front's "
        "x-ratelimit-limit header (env FRONTSCAN_FRONT_RPM, default 0).",
        show_default=False,
    ),
]
FrontHeadroomOption = Annotated[
    float | None,
    typer.Option(
        "--front-headroom",
        help="Share of Front's budget left unused until a whole rate-limit window has shown "
        "what other integrations use, 0 to 0.99 (env FRONTSCAN_FRONT_HEADROOM, default 0.1).",
        show_default=False,
    ),
]
FrontReserveOption = Annotated[
    float | None,
    typer.Option(
        "--front-reserve",
        help="Share of Front's budget kept free on top of what other integrations are seen "
        "to use, 0 to 0.49 (env FRONTSCAN_FRONT_RESERVE, default 0.05).",
        show_default=False,
    ),
]
OpenAIRpmOption = Annotated[
    int | None,
    typer.Option(
        "--openai-rpm",
        help="Your OpenAI requests per minute; tightened from OpenAI's headers, never "
        "loosened (env FRONTSCAN_OPENAI_RPM, default 500).",
        show_default=False,
    ),
]
OpenAITpmOption = Annotated[
    int | None,
    typer.Option(
        "--openai-tpm",
        help="Your OpenAI tokens per minute (env FRONTSCAN_OPENAI_TPM, default 200000).",
        show_default=False,
    ),
]
