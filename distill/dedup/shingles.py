"""Dialogue text for dedup: normalized, shingled into word n-grams (character n-grams for unspaced scripts), hashed to
u64."""

from __future__ import annotations

import hashlib
import re
import string
from typing import Any

import numpy as np

from distill.text.normalize import normalize_text
from distill.text.turns import Dialogue, content

# Scripts written without spaces between words: shingle by characters there.
_UNSPACED = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\u0e00-\u0e7f]")


def dialogue_text(record: dict[str, Any]) -> str:
    """What two dialogues must share to be duplicates: every seeker and supporter turn, in order."""
    return "\n".join(content(m) for m in Dialogue.of(record).turns)


def exact_key(text: str) -> int:
    """Hash of the normalized text as a signed 64-bit int (fits an Arrow int64 column and numpy grouping)."""
    digest = hashlib.blake2b(normalize_text(text).encode("utf-8"), digest_size=8).digest()
    return int.from_bytes(digest, "little", signed=True)


def units(text: str) -> list[str]:
    """Words of the normalized text, or its characters for unspaced scripts (Chinese, Japanese, Korean, Thai)."""
    norm = normalize_text(text)
    return [ch for ch in norm if not ch.isspace()] if _UNSPACED.search(norm) else norm.split()


def shingles(text: str, n: int) -> list[str]:
    """The text's n-unit shingles as strings (readable; `shingle_hashes` computes the same sets as hashes, faster)."""
    parts = units(text)
    sep = "" if _UNSPACED.search(text) else " "
    if len(parts) <= n:
        return [sep.join(parts)]
    return [sep.join(parts[i : i + n]) for i in range(len(parts) - n + 1)]


_MIX = np.uint64(0x9E3779B97F4A7C15)
_P = 0x100000001B3  # odd, hence invertible modulo 2**64: lets a word's hash come out of prefix sums
_P_INV = pow(_P, -1, 2**64)
# Byte -> normalized byte: ASCII letters lowered; ASCII punctuation, whitespace and controls -> space; UTF-8 bytes kept.
_BYTE_TABLE = np.arange(256, dtype=np.uint8)
_BYTE_TABLE[ord("A") : ord("Z") + 1] += 32
for _c in [*range(0, 33), 127, *(ord(c) for c in string.punctuation)]:
    _BYTE_TABLE[_c] = 32
_powers: dict[str, np.ndarray] = {}


def _power_table(n: int) -> tuple[np.ndarray, np.ndarray]:
    """P**i and P**-i (mod 2**64) for i < n, grown on demand and reused."""
    if len(_powers.get("p", ())) < n:
        size = max(n, 2 * len(_powers.get("p", ())), 1 << 16)
        with np.errstate(over="ignore"):
            _powers["p"] = np.cumprod(np.r_[np.uint64(1), np.full(size - 1, _P, dtype=np.uint64)], dtype=np.uint64)
            _powers["inv"] = np.cumprod(
                np.r_[np.uint64(1), np.full(size - 1, _P_INV, dtype=np.uint64)], dtype=np.uint64
            )
    return _powers["p"][:n], _powers["inv"][:n]


def _unit_bytes(text: str) -> bytes:
    """UTF-8 bytes whose space-separated runs are the text's units: ASCII goes straight to the byte table; other text
    is normalized first (NFKC, case, punctuation), and unspaced scripts get a space between characters."""
    if text.isascii():
        return text.encode("ascii")
    norm = normalize_text(text)
    if _UNSPACED.search(norm):
        norm = " ".join(ch for ch in norm if not ch.isspace())
    return norm.encode("utf-8")


def _mix_windows(flat: np.ndarray, width: int) -> np.ndarray:
    """Hash of every `width`-long window of `flat` (position p covers flat[p : p + width])."""
    count = len(flat) - width + 1
    acc = np.full(count, _MIX, dtype=np.uint64)
    with np.errstate(over="ignore"):  # wrap-around multiplication is the hash
        for k in range(width):
            acc = (acc ^ flat[k : k + count]) * _MIX
            acc ^= acc >> np.uint64(31)
    return acc


def shingle_hashes(texts: list[str], n: int, *, distinct: bool = True) -> list[np.ndarray]:
    """u64 hashes of each text's n-unit shingles (the sets `shingles` lists), computed for the whole batch in numpy:
    bytes normalized by table, every word hashed from prefix sums, windows mixed, no string built. `distinct=False`
    skips the per-text sort + dedup (MinHash does not care about repeats; `jaccard` dedups the few pairs it checks)."""
    if not texts:
        return []
    bufs = [_unit_bytes(t) for t in texts]
    data = _BYTE_TABLE[np.frombuffer(b" ".join(bufs), dtype=np.uint8)]
    doc_ends = np.cumsum([len(b) + 1 for b in bufs]) - 1  # byte offset of the separator after each text
    is_unit = data != 32
    starts = np.flatnonzero(is_unit & ~np.r_[False, is_unit[:-1]])
    ends = np.flatnonzero(is_unit & ~np.r_[is_unit[1:], False]) + 1
    powers, inverse = _power_table(len(data) + 1)
    with np.errstate(over="ignore"):
        prefix = np.r_[
            np.uint64(0), np.cumsum((data.astype(np.uint64) + np.uint64(1)) * powers[: len(data)], dtype=np.uint64)
        ]
        words = (prefix[ends] - prefix[starts]) * inverse[starts]  # sum (byte+1) * P**(i - start) over the word
        words = (words ^ (words >> np.uint64(29))) * _MIX
    word_doc = np.searchsorted(doc_ends, starts)
    lengths = np.bincount(word_doc, minlength=len(texts))
    word_ends = np.cumsum(lengths)
    doc_parts: list[np.ndarray] = []
    hash_parts: list[np.ndarray] = []
    if len(words) >= n:
        windows = _mix_windows(words, n)
        first = np.arange(len(windows))
        doc = word_doc[first]
        inside = first + n <= word_ends[doc]  # drop windows that straddle two texts
        doc_parts.append(doc[inside])
        hash_parts.append(windows[inside])
    for i in np.flatnonzero(lengths < n):  # short texts: the whole text is the one shingle
        own = words[word_ends[i] - lengths[i] : word_ends[i]]
        doc_parts.append(np.array([i]))
        hash_parts.append(_mix_windows(own, len(own)) if len(own) else np.array([_MIX], dtype=np.uint64))
    doc = np.concatenate(doc_parts)
    hashes = np.concatenate(hash_parts)
    if not distinct:
        order = np.argsort(doc, kind="stable")  # short texts were appended last: put every text's hashes together
        doc, hashes = doc[order], hashes[order]
        return np.split(hashes, np.searchsorted(doc, np.arange(1, len(texts))))
    order = np.lexsort((hashes, doc))
    doc, hashes = doc[order], hashes[order]
    keep = np.r_[True, (doc[1:] != doc[:-1]) | (hashes[1:] != hashes[:-1])]
    doc, hashes = doc[keep], hashes[keep]
    return np.split(hashes, np.searchsorted(doc, np.arange(1, len(texts))))
