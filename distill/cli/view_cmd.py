"""`distill view RUN_DIR`: the local dataset viewer."""

from __future__ import annotations

import errno
from pathlib import Path
from typing import Annotated

import typer

from distill.errors import InputError


def view(
    run_dir: Annotated[Path, typer.Argument(help="A run folder, e.g. runs/demo.")],
    port: Annotated[
        int, typer.Option("--port", "-p", min=0, max=65535, help="Port on 127.0.0.1; 0 picks a free one.")
    ] = 0,
    threads: Annotated[int, typer.Option("--threads", min=1, help="DuckDB threads per query.")] = 2,
) -> None:
    """Browse a run folder in the browser: dialogues, sample windows, preference pairs, rejects and seeds.

    Filter by emotion, mode, strategy, reject stage and reason, score ranges and text.

    A dialogue is shown beside its seed, with its scores and why it passed or was rejected.

    Serves on 127.0.0.1 only; reads only complete Parquet shards, in place, so it stays fast and small on runs of
    millions of rows.
    """
    from distill.view.server import HOST, ViewServer

    try:
        server = ViewServer(run_dir, port=port, threads=threads)
    except OSError as exc:
        if exc.errno == errno.EADDRINUSE:
            raise InputError(f"{HOST}:{port}: port already in use; pass another --port, or 0 for a free one") from None
        raise
    typer.echo(f"distill view: {server.url} (run {run_dir}; Ctrl-C to stop)")
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
