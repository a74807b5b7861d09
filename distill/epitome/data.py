"""EPITOME-format CSV folders: read and check them (one clear line per fault), join the mechanisms, hash, write.

A folder holds one to three files named like the public release (`emotional-reactions-reddit.csv`, ...), each with
the columns `sp_id, rp_id, seeker_post, response_post, level, rationales`. Rows of different files are the same pair
when their (sp_id, rp_id) match; a pair repeated inside a file is matched by its occurrence (the k-th repeat with the
k-th repeat), so every row is kept and counted. A mechanism a pair has no row for is unlabelled (-1), not guessed.
"""

from __future__ import annotations

import csv
import hashlib
import io
import random
from collections.abc import Hashable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from distill.atomic import atomic_write_text
from distill.epitome import FILES, LEVELS, MECHANISMS
from distill.errors import InputError

COLUMNS = ("sp_id", "rp_id", "seeker_post", "response_post", "level", "rationales")
UNLABELLED = -1
TRAINED_PAIRS_FILE = "trained_pairs.txt"  # in a model folder: the digests of the pairs it trained on


@dataclass
class EpitomePair:
    sp_id: str
    rp_id: str
    seeker: str
    response: str
    levels: dict[str, int] = field(default_factory=dict)  # mechanism -> 0/1/2; absent = unlabelled
    rationales: dict[str, str] = field(default_factory=dict)

    def level(self, mechanism: str) -> int:
        return self.levels.get(mechanism, UNLABELLED)

    @property
    def key(self) -> tuple[str, str]:
        """What the model reads of the pair: the public release repeats some pairs word for word, and splits and
        `trained_pairs.txt` treat such repeats as one pair."""
        return (self.seeker.strip(), self.response.strip())


@dataclass
class EpitomeSet:
    pairs: list[EpitomePair]
    mechanisms: tuple[str, ...]  # the mechanisms with a file in the folder, in MECHANISMS order
    digest: str  # blake2b of the files' bytes, in MECHANISMS order: names the data in cards without copying it
    source: str

    def __len__(self) -> int:
        return len(self.pairs)

    def labels(self, mechanism: str) -> list[int]:
        return [p.level(mechanism) for p in self.pairs]

    def pair_keys(self) -> list[tuple[str, str]]:
        return [p.key for p in self.pairs]

    def subset(self, indices: Iterable[int]) -> EpitomeSet:
        return EpitomeSet([self.pairs[i] for i in indices], self.mechanisms, self.digest, self.source)


def _read_file(path: Path, mechanism: str) -> list[dict[str, str]]:
    try:
        handle = path.open(encoding="utf-8", newline="")
    except OSError as exc:
        raise InputError(f"{path}: cannot read: {exc.strerror}") from None
    rows: list[dict[str, str]] = []
    with handle:
        try:
            reader = csv.DictReader(handle)
            header = reader.fieldnames or []
            missing = [c for c in COLUMNS if c != "rationales" and c not in header]
            if missing:
                raise InputError(
                    f"{path}: row 1 (header): missing column {missing[0]!r}; EPITOME CSVs have {', '.join(COLUMNS)}"
                )
            for number, row in enumerate(reader, start=2):  # row 1 is the header, as a spreadsheet counts
                if None in row:
                    raise InputError(f"{path}: row {number}: more fields than the header's {len(header)}")
                for name in ("sp_id", "rp_id", "seeker_post", "response_post"):
                    if not (row.get(name) or "").strip():
                        raise InputError(f"{path}: row {number}, field {name!r}: empty")
                raw = (row.get("level") or "").strip()
                if raw not in {str(v) for v in LEVELS}:
                    raise InputError(
                        f"{path}: row {number}, field 'level': {raw!r} is not one of 0, 1, 2 ({mechanism})"
                    )
                rows.append(row)
        except UnicodeDecodeError as exc:
            raise InputError(
                f"{path}: not UTF-8 text ({exc.reason} at byte {exc.start}); is this an EPITOME CSV?"
            ) from None
        except csv.Error as exc:
            raise InputError(f"{path}: row {reader.line_num}: not valid CSV: {exc}") from None
    if not rows:
        raise InputError(f"{path}: no data rows")
    return rows


def read_epitome(folder: str | Path) -> EpitomeSet:
    """Every EPITOME file in `folder`, joined into pairs with one level per labelled mechanism."""
    root = Path(folder)
    if not root.is_dir():
        raise InputError(f"{root}: not a folder of EPITOME CSVs (expected {', '.join(FILES.values())})")
    present = [m for m in MECHANISMS if (root / FILES[m]).is_file()]
    if not present:
        found = sorted(p.name for p in root.iterdir())[:5]
        raise InputError(
            f"{root}: none of {', '.join(FILES.values())} is here (found: {', '.join(found) or 'nothing'})"
        )
    digest = hashlib.blake2b(digest_size=16)
    pairs: dict[tuple[str, str, int], EpitomePair] = {}
    for mechanism in present:
        path = root / FILES[mechanism]
        digest.update(path.read_bytes())
        seen: dict[tuple[str, str], int] = {}
        for row in _read_file(path, mechanism):
            ids = (row["sp_id"].strip(), row["rp_id"].strip())
            occurrence = seen.get(ids, 0)
            seen[ids] = occurrence + 1
            pair = pairs.setdefault(
                (*ids, occurrence), EpitomePair(ids[0], ids[1], row["seeker_post"], row["response_post"])
            )
            pair.levels[mechanism] = int(row["level"])
            pair.rationales[mechanism] = row.get("rationales") or ""
    return EpitomeSet(list(pairs.values()), tuple(present), digest.hexdigest(), str(root))


def write_epitome(folder: str | Path, pairs: list[EpitomePair], mechanisms: tuple[str, ...] = MECHANISMS) -> list[Path]:
    """One CSV per mechanism in the public release's format; pairs without that mechanism's label are left out."""
    root = Path(folder)
    root.mkdir(parents=True, exist_ok=True)
    written = []
    for mechanism in mechanisms:
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        writer.writerow(COLUMNS)
        for p in pairs:
            if mechanism in p.levels:
                writer.writerow(
                    [p.sp_id, p.rp_id, p.seeker, p.response, p.levels[mechanism], p.rationales.get(mechanism, "")]
                )
        path = root / FILES[mechanism]
        atomic_write_text(path, buffer.getvalue())
        written.append(path)
    return written


def pair_digest(key: tuple[str, str]) -> str:
    """A short hash of one `EpitomePair.key`: a model folder lists these for the pairs it trained on (never
    their text), so `validate` can tell when it is being scored on them."""
    return hashlib.blake2b("\x1f".join(key).encode("utf-8"), digest_size=8).hexdigest()


def write_trained_pairs(folder: Path, trained: EpitomeSet) -> None:
    atomic_write_text(
        folder / TRAINED_PAIRS_FILE, "".join(f"{d}\n" for d in sorted(set(map(pair_digest, trained.pair_keys()))))
    )


def count_trained_on(model: str | Path, data: EpitomeSet) -> int | None:
    """How many of `data`'s pairs the model in folder `model` trained on; None for a folder that does not say."""
    try:
        trained = set((Path(model) / TRAINED_PAIRS_FILE).read_text(encoding="utf-8").split())
    except OSError:
        return None
    return sum(pair_digest(key) in trained for key in data.pair_keys())


def split_indices(keys: Sequence[Hashable], holdout_fraction: float, seed: int) -> tuple[list[int], list[int]]:
    """(train, held-out) indices over rows with these keys (`EpitomeSet.pair_keys`): a seeded shuffle of the distinct
    keys, so rows with one key fall on one side, and data without repeats splits as a shuffle of its rows would."""
    rows: dict[Hashable, list[int]] = {}
    for i, key in enumerate(keys):
        rows.setdefault(key, []).append(i)
    groups = list(rows.values())
    random.Random(seed).shuffle(groups)
    cut, held = round(len(keys) * holdout_fraction), []
    for group in groups:
        if len(held) >= cut:
            break
        held += group
    taken = set(held)
    return [i for i in range(len(keys)) if i not in taken], sorted(held)


def fold_indices(keys: Sequence[Hashable], folds: int, seed: int) -> list[list[int]]:
    """`folds` disjoint held-out index lists covering every row (seeded shuffle, round-robin), for cross-validation.
    Rows with one key (`EpitomeSet.pair_keys`) all go to the lowest fold any of them was dealt, so the model is never
    scored on a pair it trained on, and the last fold only loses rows to the repeats: the lexical cues, written reading
    folds 0-3 of the plain deal, stay unseen there. Many repeats would tilt the sizes toward the first folds; EPITOME
    repeats 50 pairs of 2,526."""
    order = list(range(len(keys)))
    random.Random(seed).shuffle(order)
    lowest: dict[Hashable, int] = {}
    for position, i in enumerate(order):
        lowest[keys[i]] = min(position % folds, lowest.get(keys[i], folds))
    return [[i for i, key in enumerate(keys) if lowest[key] == k] for k in range(folds)]
