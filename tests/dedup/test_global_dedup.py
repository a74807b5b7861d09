"""Global dedup through files: signatures written per shard, duplicates found across shards, one keeper per cluster."""

from __future__ import annotations

import pytest

from distill.dedup.minhash import lsh_params
from distill.dedup.near import find_duplicates
from distill.dedup.semantic import embed, embedding_schema, semantic_duplicates, similar_pairs
from distill.dedup.signatures import signature_schema, signature_table
from distill.errors import InputError
from distill.shards import ShardWriter
from tests.support.random_dialogues import perturb, random_dialogue


def write_signatures(folder, shards, threshold=0.8, num_perm=128):
    bands, _ = lsh_params(threshold, num_perm)
    for i, rows in enumerate(shards):
        with ShardWriter(folder, signature_schema(bands), prefix=f"shard{i}") as out:
            out.write_table(signature_table(rows, threshold=threshold, num_perm=num_perm, shingle_words=5))


def test_planted_duplicates_across_shards(tmp_path, rng):
    base = [random_dialogue(rng, f"base{i:02d}") for i in range(30)]
    exact = {
        "id": "exact03",
        "scores": {},
        "messages": [dict(m, content=m["content"].upper() + "!") for m in base[3]["messages"]],
    }
    near = perturb(base[7], "near07", rng, changes=2)  # 2 of 40 words in one of 4 turns: Jaccard ~0.94
    far = perturb(base[9], "far09", rng, changes=25)  # most of a turn rewritten: Jaccard well below 0.8, must be kept
    for d, e in ((base[3], 1.0), (exact, 2.0), (base[7], 3.0), (near, 1.0), (base[9], 1.0), (far, 1.0)):
        d["scores"]["empathy"] = e
    # Originals in shard 0, copies in shards 1 and 2: only a global pass can see them.
    write_signatures(tmp_path, [base[:15], [*base[15:], exact], [near, far]])
    dups = {d.id: d for d in find_duplicates(tmp_path, 0.8)}
    assert set(dups) == {"base03", "near07"}
    # Keeper rule: the exact copy has the higher empathy, so it stays and the original goes.
    assert (dups["base03"].keeper_id, dups["base03"].reason) == ("exact03", "exact_duplicate")
    assert (dups["near07"].keeper_id, dups["near07"].reason) == ("base07", "near_duplicate")
    assert 0.8 <= dups["near07"].similarity < 1.0


def test_clusters_are_transitive_and_keep_the_smallest_id_on_ties(tmp_path, rng):
    a = random_dialogue(rng, "m-a")
    chain = [a, perturb(a, "m-c", rng, 2), perturb(a, "m-b", rng, 3)]
    write_signatures(tmp_path, [[chain[0]], [chain[1]], [chain[2]]])
    dups = find_duplicates(tmp_path, 0.8)
    assert sorted((d.id, d.keeper_id) for d in dups) == [("m-b", "m-a"), ("m-c", "m-a")]


def test_distinct_dialogues_are_all_kept(tmp_path, rng):
    write_signatures(
        tmp_path, [[random_dialogue(rng, f"x{i}") for i in range(20)] for _ in range(1)] + [[random_dialogue(rng, "y")]]
    )
    assert find_duplicates(tmp_path, 0.8) == []


def test_repeated_ids_across_shards_are_an_input_error(tmp_path, rng):
    d = random_dialogue(rng, "same")
    write_signatures(tmp_path, [[d], [random_dialogue(rng, "same")]])
    with pytest.raises(InputError, match="appear in more than one generated row"):
        find_duplicates(tmp_path, 0.8)


def test_semantic_duplicates_with_real_minilm(tmp_path):
    """Paraphrases share few shingles but embed close together: only the semantic pass links them."""
    texts = {
        "p1": "I feel so lonely since my best friend moved away to another country last month.",
        "p2": "Since my best friend moved to another country last month, I have felt so lonely.",
        "q1": "My manager criticised my report in front of the whole team and I felt humiliated.",
    }
    vectors = embed(list(texts.values()))
    assert vectors.shape == (3, 384)
    assert similar_pairs(vectors, 0.85).tolist() == [[0, 1]]
    with ShardWriter(tmp_path, embedding_schema(384), prefix="emb") as out:
        import pyarrow as pa

        col = pa.FixedSizeListArray.from_arrays(pa.array(vectors.reshape(-1), pa.float32()), 384)
        out.write_table(pa.table({"id": list(texts), "empathy": [1.0, 2.0, 1.0], "vector": col}, schema=out.schema))
    dups = semantic_duplicates(tmp_path, 0.85)
    assert [(d.id, d.keeper_id, d.reason) for d in dups] == [("p1", "p2", "semantic_duplicate")]
