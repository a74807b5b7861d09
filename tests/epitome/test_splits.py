import random

from distill.epitome.data import fold_indices, split_indices


def _keys(n: int, repeats: dict[int, int]) -> list[tuple[str, str]]:
    """n distinct pairs, except that row i repeats row repeats[i] word for word."""
    return [(f"seeker {repeats.get(i, i)}", f"response {repeats.get(i, i)}") for i in range(n)]


def test_folds_cover_every_row_once_and_keep_repeated_pairs_together():
    keys = _keys(200, {i: i - 1 for i in range(1, 200, 7)} | {150: 3, 199: 40})
    folds = fold_indices(keys, 5, seed=0)
    assert sorted(i for fold in folds for i in fold) == list(range(200))
    fold_of = {i: k for k, fold in enumerate(folds) for i in fold}
    for i, key in enumerate(keys):
        assert all(fold_of[j] == fold_of[i] for j, other in enumerate(keys) if other == key), key
    assert min(len(f) for f in folds) >= 30  # repeats move a few rows, the folds stay near 40 each


def test_repeats_only_leave_the_last_fold_so_it_stays_a_subset_of_the_plain_deal():
    # The lexical cues were written reading folds 0-3 of the plain deal: the last fold must gain nothing from them.
    plain = fold_indices(_keys(300, {}), 5, seed=0)
    grouped = fold_indices(_keys(300, {i: i - 1 for i in range(1, 300, 3)}), 5, seed=0)
    assert set(grouped[-1]) < set(plain[-1])
    assert fold_indices(_keys(300, {}), 5, seed=0) == plain  # seeded: the same every time


def test_held_out_split_never_holds_a_pair_that_is_also_trained_on():
    keys = _keys(400, {i: i - 1 for i in range(1, 400, 2)})  # every pair twice
    train, held = split_indices(keys, 0.25, seed=3)
    assert sorted(train + held) == list(range(400))
    assert not {keys[i] for i in train} & {keys[i] for i in held}
    assert 60 <= len(held) <= 100
    assert split_indices(keys, 0.25, seed=3) == (train, held)
    assert split_indices(keys, 0.0, seed=3) == (list(range(400)), [])


def test_data_without_repeats_splits_as_a_plain_seeded_shuffle():
    order = list(range(100))
    random.Random(7).shuffle(order)
    assert split_indices(_keys(100, {}), 0.2, seed=7) == (sorted(order[20:]), sorted(order[:20]))
    assert fold_indices(_keys(100, {}), 4, seed=7) == [sorted(order[k::4]) for k in range(4)]
