from __future__ import annotations

import numpy as np
import pytest

from distill.dedup.clusters import UnionFind, keepers
from distill.dedup.minhash import _collision_probability, band_keys, candidate_pairs, jaccard, lsh_params, signatures
from distill.dedup.shingles import exact_key, shingle_hashes, shingles


def test_shingles_words_and_characters():
    assert shingles("I feel, so  ALONE today!", 3) == ["i feel so", "feel so alone", "so alone today"]
    assert shingles("我很孤单", 2) == ["我很", "很孤", "孤单"]  # unspaced scripts: character n-grams
    assert shingles("hi", 5) == ["hi"] and shingles("", 5) == [""]


def test_exact_key_ignores_case_punctuation_and_spacing():
    assert exact_key("I feel alone.  Really!") == exact_key("i feel alone really")
    assert exact_key("I feel alone") != exact_key("I feel alone now")


@pytest.mark.parametrize("threshold", [0.5, 0.7, 0.8, 0.9])
def test_lsh_params_catch_pairs_at_the_threshold(threshold):
    bands, rows = lsh_params(threshold, 128)
    assert bands * rows <= 128
    assert _collision_probability(threshold, bands, rows) >= 0.995


def test_signature_agreement_estimates_jaccard():
    words = [f"w{i}" for i in range(400)]
    a, b = " ".join(words[:300]), " ".join(words[60:360])  # 1-word shingles: Jaccard 240/360
    ha, hb = shingle_hashes([a, b], 1)
    assert jaccard(ha, hb) == pytest.approx(240 / 360)
    sigs = signatures([ha, hb], 256)
    assert sigs.shape == (2, 256) and sigs.dtype == np.uint32
    assert (sigs[0] == sigs[1]).mean() == pytest.approx(240 / 360, abs=0.08)


def test_identical_documents_share_every_band_and_distinct_ones_none():
    hashes = shingle_hashes(
        ["the cat sat on the mat today", "the cat sat on the mat today", "completely different words in here now"], 2
    )
    keys = band_keys(signatures(hashes, 64), 16, 4)
    assert (keys[0] == keys[1]).all() and not (keys[0] == keys[2]).any()
    assert candidate_pairs(keys).tolist() == [[0, 1]]


def test_candidate_pairs_cap_huge_buckets():
    keys = np.zeros((200, 1), dtype=np.int64)  # one bucket of 200: a chain of 199 edges, not 19,900 pairs
    pairs = candidate_pairs(keys, max_bucket=64)
    assert len(pairs) == 199
    uf = UnionFind(200)
    uf.union_pairs(pairs)
    assert len(set(uf.roots().tolist())) == 1


def test_keeper_rule_highest_empathy_then_smallest_id():
    ids = ["d", "b", "c", "a", "e"]
    roots = np.array([0, 0, 0, 0, 4])
    empathy = np.array([3.0, 5.0, 5.0, np.nan, 1.0])
    keep = keepers(roots, ids, empathy)
    # "b" and "c" tie on empathy 5: the smaller id wins; NaN empathy ("a") ranks last despite the smallest id.
    assert [ids[k] for k in keep] == ["b", "b", "b", "b", "e"]


@pytest.mark.parametrize(
    "text",
    [
        "I feel so alone today, and my friend moved away; nobody calls. I feel so alone today!",
        "Short one",
        "",
        "Tabs\tand\nnew lines -- and   spaces... and_underscores",
        "Ｆｕｌｌｗｉｄｔｈ Ｔｅｘｔ and café naïve résumé, it’s “quoted”",
        "我最近很焦虑，睡不着觉。我最近很焦虑。",
    ],
)
def test_fast_shingle_hashes_match_the_string_shingles(text):
    (hashes,) = shingle_hashes([text], 3)
    assert len(hashes) == len(set(shingles(text, 3)))  # one distinct hash per distinct shingle
    assert np.all(np.diff(hashes.astype(np.float64)) >= 0)


def test_shingle_hashes_agree_across_ascii_and_unicode_texts_and_batches():
    ascii_text = "It is hard to sleep when the house is so quiet at night"
    unicode_text = ascii_text + " — café"
    a, u = shingle_hashes([ascii_text, unicode_text], 3)
    # Every shingle of the ASCII text is also a shingle of the longer Unicode text: both paths hash words the same way.
    assert (
        set(a.tolist()) <= set(u.tolist()) and len(u) == len(a) + 1
    )  # "—" is punctuation: one new word, one new 3-gram
    (alone,) = shingle_hashes([unicode_text], 3)
    assert alone.tolist() == u.tolist()  # a text's hashes do not depend on the other texts in its batch
