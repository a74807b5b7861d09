"""The `distill` command: one subcommand per stage, each with --help.

User mistakes (bad config, bad input, wrong run folder) print one line and exit 2; bugs keep their traceback.
"""

from __future__ import annotations

import logging
import sys

import typer

from distill.errors import DistillError, report_user_error

app = typer.Typer(
    name="distill",
    help="Seed dialogues -> teacher LLM on Ray -> curated empathetic dialogues -> distilled students.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)


_registered = False


def _register() -> None:
    # Each stage's commands live in their own module; importing them is cheap (heavy imports are inside commands).
    global _registered
    if _registered:
        return
    _registered = True
    from distill.cli.generate_cmd import generate

    app.command("generate")(generate)
    from distill.cli.curate_cmd import curate

    app.command("curate")(curate)
    from distill.cli import config_cmd, eval_cmd, run_cmd, scorers_cmd, seeds_cmd, submit_cmd, view_cmd

    app.add_typer(seeds_cmd.app, name="seeds")
    app.add_typer(scorers_cmd.app, name="scorers")
    app.add_typer(config_cmd.app, name="config")
    app.command("run")(run_cmd.run)
    from distill.cli.train_cmd import train as train_command

    app.command("train")(train_command)
    app.command("eval")(eval_cmd.eval_)
    app.command("report")(eval_cmd.report)
    app.command("submit")(submit_cmd.submit)
    app.add_typer(submit_cmd.job_app, name="job")
    app.command("view")(view_cmd.view)


def _not_the_cpu_probe_note(record: logging.LogRecord) -> bool:
    # transformers' save_pretrained reaches DeepSpeed (installed for train/) through accelerate, and on a machine
    # without a GPU its accelerator probe warns this in every command that saves a model. DeepSpeed's other
    # warnings still show.
    return not record.getMessage().startswith("Setting accelerator to CPU")


def main(argv: list[str] | None = None) -> int:
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s", datefmt="%H:%M:%S"
    )
    # A filter on the logger, not a level: DeepSpeed resets its logger's level when it is imported, later.
    logging.getLogger("DeepSpeed").addFilter(_not_the_cpu_probe_note)
    _register()
    try:
        # Without standalone mode click returns the code of typer.Exit instead of exiting.
        code = app(args=argv, standalone_mode=False)
    except (
        DistillError,
        OSError,
    ) as exc:  # a full or unwritable output folder is the user's to fix; other OSErrors are bugs
        return report_user_error(exc)
    except typer.Abort:
        print("aborted", file=sys.stderr)
        return 130
    except SystemExit as exc:  # click's own exit for --help / usage errors
        return int(exc.code or 0)
    except Exception as exc:  # click usage errors arrive here in standalone_mode=False
        import click

        if isinstance(exc, click.ClickException):
            exc.show()
            return exc.exit_code
        raise
    return code if isinstance(code, int) else 0


if __name__ == "__main__":
    sys.exit(main())
