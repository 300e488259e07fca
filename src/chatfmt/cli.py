"""The `chatfmt` command: list templates, show one, render a conversation, export one for transformers.

Exit codes scripts can rely on: 0 success; 1 the template itself refused the input (it raised), or
`plugin check` found a difference; 2 a usage problem (unknown template, unreadable or invalid input, bad flag). Errors are one line on stderr.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import sys
import warnings
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, TextIO

import jinja2

from . import jobs
from . import messages as _messages
from .cli_common import UsageError, add_render_options
from .cli_common import parse_variables as _variables
from .errors import ChatfmtError, HubUnreachable
from .registry import REGISTRY, PluginWarning, get_template
from .registry.hub import load_from_hub
from .template import Template

EXIT_OK, EXIT_TEMPLATE_ERROR, EXIT_USAGE = 0, 1, 2


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="chatfmt", description="Render chat conversations exactly as transformers does."
    )
    commands = parser.add_subparsers(dest="command", required=True)
    listing = commands.add_parser("list", help="list template names, where each comes from, and whether it is compiled")
    listing.set_defaults(run=_cmd_list)
    show = commands.add_parser("show", help="print a template's source, special tokens and origin")
    show.add_argument("name", help="a template name, .jinja file or Hub repo id")
    _token_flags(show)
    show.set_defaults(run=_cmd_show)
    pull = commands.add_parser("pull", help="fetch a Hub repo's chat template files into the cache for offline use")
    pull.add_argument("repo_id", help="a Hugging Face Hub repo id, e.g. HuggingFaceTB/SmolLM2-135M-Instruct")
    pull.add_argument("--revision", help="a branch, tag or commit (default: main)")
    pull.set_defaults(run=_cmd_pull)
    check = commands.add_parser(
        "check", help="report what a template supports, its engine, portability and budget risks"
    )
    check.add_argument("name", help="a template name, .jinja file or Hub repo id")
    check.add_argument("--json", action="store_true", help="print the report as JSON")
    check.set_defaults(run=_cmd_check)
    render = commands.add_parser("render", help="render one conversation (JSON) to its prompt text")
    render.set_defaults(run=_cmd_render)
    render.add_argument("name", help="a template name, .jinja file or Hub repo id")
    _token_flags(render)
    render.add_argument(
        "file", nargs="?", help='JSON file with a list of messages or {"messages": [...]}; default stdin'
    )
    add_render_options(render)
    render.add_argument("--tools", metavar="FILE", help="JSON file with a list of tool schemas")
    render.add_argument("--documents", metavar="FILE", help="JSON file with a list of documents")
    render.add_argument(
        "--no-validate",
        dest="validate",
        action="store_false",
        help="render whatever the template makes of the input, as transformers does (by default, roles the template "
        "does not handle, missing content and content it would print as a Python repr are refused)",
    )
    formatting = commands.add_parser("format", help="format a dataset (JSONL, .gz, .zst, Parquet) to prompts, streamed")
    jobs.add_arguments(formatting)
    formatting.set_defaults(run=_cmd_format)
    export = commands.add_parser("export", help="write a template into a tokenizer folder, as transformers reads it")
    export.add_argument("name", help="a template name, .jinja or pattern .toml file, model folder or Hub repo id")
    export.add_argument("directory", help="the tokenizer folder to write (created, or updated keeping its other keys)")
    _token_flags(export)
    export.set_defaults(run=_cmd_export)
    plugin = commands.add_parser("plugin", help="tools for plugin authors").add_subparsers(
        dest="plugin_command", required=True
    )
    check = plugin.add_parser(
        "check", help="check a template's compiled format against its Jinja, and against transformers"
    )
    check.add_argument("name", help="a plugin (or any template) name, file or Hub repo id")
    check.set_defaults(run=_cmd_plugin_check)
    return parser


def _token_flags(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--bos", metavar="TOKEN", help="the bos_token the template sees (e.g. for a .jinja file)")
    parser.add_argument("--eos", metavar="TOKEN", help="the eos_token the template sees")


def _template(args: argparse.Namespace) -> Template:
    """The named template, with the --bos/--eos tokens given."""
    tokens = {name: value for name, value in (("bos_token", args.bos), ("eos_token", args.eos)) if value is not None}
    return get_template(args.name, special_tokens=tokens or None)


def _read_text(path: str | None, stdin: TextIO) -> str:
    try:
        return stdin.read() if path in (None, "-") else Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise UsageError(f"cannot read {path}: {exc.strerror}") from exc
    except UnicodeDecodeError as exc:
        raise UsageError(f"cannot read {path or 'stdin'}: not UTF-8 text ({exc.reason} at byte {exc.start})") from exc


def _read_json(path: str | None, stdin: TextIO) -> Any:
    text = _read_text(path, stdin)
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise UsageError(f"{path or 'stdin'} is not valid JSON: {exc}") from exc
    except RecursionError as exc:
        raise UsageError(f"{path or 'stdin'} nests arrays or objects too deeply") from exc


# Every subcommand is `run(args, stdin, stdout)`, registered on its parser with set_defaults(run=...);
# it may return an exit code (None means success).


def _cmd_list(args: argparse.Namespace, stdin: TextIO, out: TextIO) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", PluginWarning)  # broken plugins appear in the table instead
        entries = REGISTRY.entries()
    rows = [("NAME", "ALIASES", "SOURCE", "PATH")]
    for entry in entries:
        source = f"plugin {entry.description}" if entry.kind == "plugin" else entry.kind
        if entry.error is not None:
            path = f"BROKEN: {entry.error}"
        elif entry.inactive is not None:
            path = f"inactive: {entry.inactive}"
        else:
            path = "compiled" if get_template(entry.name).is_compiled else "jinja"
        rows.append((entry.name, ", ".join(entry.aliases), source, path))
    widths = [max(len(row[column]) for row in rows) for column in range(3)]
    for row in rows:
        out.write("  ".join(cell.ljust(width) for cell, width in zip(row, widths)) + "  " + row[3] + "\n")


def _cmd_show(args: argparse.Namespace, stdin: TextIO, out: TextIO) -> None:
    template = _template(args)
    out.write(f"# name: {template.name}\n# origin: {template.origin.kind}\n")
    for key, value in template.origin.details.items():
        out.write(f"#   {key}: {value}\n")
    out.write(f"# compiled: {'yes' if template.is_compiled else 'no'}\n")
    out.write(f"# special tokens: {json.dumps(dict(template.special_tokens), ensure_ascii=False)}\n")
    sources = template.source if not isinstance(template.source, str) else {"": template.source}
    for label, source in sources.items():
        if label:
            out.write(f"# --- template {label!r} ---\n")
        out.write(source if source.endswith("\n") else source + "\n")


def _cmd_pull(args: argparse.Namespace, stdin: TextIO, out: TextIO) -> None:
    repo_id = args.repo_id
    try:
        template = load_from_hub(repo_id, revision=args.revision)
    except HubUnreachable as exc:  # its message would say to run `chatfmt pull`, which is what failed
        why = "HF_HUB_OFFLINE is set; unset it to pull" if exc.offline else f"the Hub cannot be reached ({exc.reason})"
        raise UsageError(
            f"cannot pull {repo_id!r}: {why}; connect to the network (check HF_ENDPOINT and proxy "
            "settings) and try again"
        ) from exc
    details = template.origin.details
    names = "one template" if isinstance(template.source, str) else f"templates {', '.join(template.source)}"
    out.write(f"{repo_id}: {names} at commit {details['commit']} cached; it now renders offline\n")


def _cmd_check(args: argparse.Namespace, stdin: TextIO, out: TextIO) -> int:
    from .template_check import check_template, format_report

    report = check_template(get_template(args.name))
    out.write(json.dumps(report, indent=2, ensure_ascii=False) + "\n" if args.json else format_report(report))
    return EXIT_TEMPLATE_ERROR if report["errors"] else EXIT_OK


def _cmd_render(args: argparse.Namespace, stdin: TextIO, out: TextIO) -> None:
    template = _template(args)
    source = "stdin" if args.file in (None, "-") else args.file
    conversation = _messages.decode_conversation(_read_text(args.file, stdin), source=source)
    text = template.render(
        conversation,
        add_generation_prompt=args.add_generation_prompt,
        continue_final_message=args.continue_final_message or False,
        chat_template=args.chat_template,
        tools=_read_json(args.tools, stdin) if args.tools else None,
        documents=_read_json(args.documents, stdin) if args.documents else None,
        validate=args.validate,
        **_variables(args.variables),
    )
    out.write(text)
    if text and not text.endswith("\n") and out.isatty():
        out.write("\n")


def _cmd_format(args: argparse.Namespace, stdin: TextIO, out: TextIO) -> int:
    return jobs.run(args, out, sys.stderr)


def _cmd_export(args: argparse.Namespace, stdin: TextIO, out: TextIO) -> None:
    template = _template(args)
    try:
        folder = template.save(args.directory)
    except (OSError, ValueError) as exc:
        raise UsageError(f"cannot export to {args.directory}: {exc}") from exc
    names = "chat_template.jinja" if isinstance(template.source, str) else ", ".join(template.source)
    out.write(
        f"{template.name or args.name}: wrote {names} and {len(template.special_tokens)} special tokens to {folder}\n"
    )


class ParityFailure(Exception):
    """`chatfmt plugin check` found a difference: exit 1, like a template that refuses its input."""


def _cmd_plugin_check(args: argparse.Namespace, stdin: TextIO, out: TextIO) -> None:
    from .testing import check_parity

    report = check_parity(get_template(args.name))
    out.write(report.describe() + "\n")
    if not report.ok:
        raise ParityFailure(f"{args.name}: the renders differ (see above)")


def _one_line_warning(stderr: TextIO) -> Callable[..., None]:
    """Warnings (a token a .jinja file lacks, a Hub repo's ignored template) as one line each, like errors."""

    def show(message: Warning | str, category: type[Warning], *rest: Any, **more: Any) -> None:
        stderr.write(f"chatfmt: warning: {message}\n")

    return show


def main(
    argv: Sequence[str] | None = None,
    *,
    stdin: TextIO | None = None,
    stdout: TextIO | None = None,
    stderr: TextIO | None = None,
) -> int:
    """Run the command line; returns the exit code instead of exiting, so tests can call it."""
    stdin, stdout, stderr = stdin or sys.stdin, stdout or sys.stdout, stderr or sys.stderr
    try:
        with contextlib.redirect_stdout(stdout), contextlib.redirect_stderr(stderr):  # argparse's usage, --help
            args = _parser().parse_args(argv)
    except SystemExit as exc:  # argparse exits on --help and on bad flags; return the code instead
        return exc.code if isinstance(exc.code, int) else EXIT_OK if exc.code is None else EXIT_USAGE
    try:
        with contextlib.redirect_stderr(stderr), warnings.catch_warnings():  # `format` reports on stderr
            warnings.showwarning = _one_line_warning(stderr)
            code = args.run(args, stdin, stdout)
    except (UsageError, ChatfmtError) as exc:
        stderr.write(f"chatfmt: error: {exc}\n")
        return EXIT_USAGE
    except ParityFailure as exc:
        stderr.write(f"chatfmt: {exc}\n")
        return EXIT_TEMPLATE_ERROR
    except (jinja2.TemplateError, ValueError, TypeError, ArithmeticError, LookupError, RecursionError) as exc:
        stderr.write(f"chatfmt: the template refused this input: {type(exc).__name__}: {exc}\n")
        return EXIT_TEMPLATE_ERROR
    return EXIT_OK if code is None else int(code)
