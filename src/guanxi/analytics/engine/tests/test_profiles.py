"""Customer profiles: tags, clusters, association rules and also-bought recommendations."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.metrics import adjusted_rand_score, silhouette_score

from guanxi.analytics.engine.errors import InputError
from guanxi.analytics.engine.profiles import (
    TAGS,
    also_bought,
    association_rules,
    cluster_customers,
    profile_tags,
    silhouette_scores,
)

NAN = math.nan

# --- tags -----------------------------------------------------------------------------------


def _customer(**kw: object) -> dict[str, object]:
    base: dict[str, object] = dict(
        recency_days=30.0, frequency=2, monetary=200.0, tenure_days=400.0, value_tier="common",
        lifecycle_stage="repeat", declining=False, churn_probability=0.2, clv=300.0,
        clv_intent=300.0)
    base.update(kw)
    return base


def _tags(customers: list[dict[str, object]]) -> list[set[str]]:
    columns = {name: [c[name] for c in customers] for name in customers[0]}
    matrix = profile_tags(**columns)  # type: ignore[arg-type]
    assert matrix.shape == (len(customers), len(TAGS))
    codes = [t.code for t in TAGS]
    return [{codes[j] for j in np.flatnonzero(row)} for row in matrix]


def _background() -> list[dict[str, object]]:
    # Ordinary repeat buyers with varied spend, so that percentiles have something to cut.
    return [_customer(frequency=2 + i % 3, monetary=(2 + i % 3) * (40.0 + 5 * i),
                      clv=200.0 + 10 * i, clv_intent=200.0 + 10 * i, value_tier="minor")
            for i in range(30)]


def test_tags_on_hand_built_customers() -> None:
    vip = _customer(recency_days=5.0, frequency=40, monetary=20_000.0, tenure_days=1500.0,
                    value_tier="vip", lifecycle_stage="loyal", churn_probability=0.05,
                    clv=9000.0, clv_intent=9000.0)
    new = _customer(recency_days=20.0, frequency=1, monetary=50.0, tenure_days=20.0,
                    value_tier="minor", lifecycle_stage="first_time", churn_probability=0.3,
                    clv=100.0, clv_intent=100.0)
    lost = _customer(recency_days=500.0, frequency=0, monetary=0.0, tenure_days=900.0,
                     value_tier="minor", lifecycle_stage="lost", churn_probability=0.95,
                     clv=0.5, clv_intent=0.5)
    never = _customer(recency_days=NAN, frequency=0, monetary=0.0, tenure_days=NAN,
                      value_tier="", lifecycle_stage="", churn_probability=NAN, clv=NAN,
                      clv_intent=NAN)
    slipping = _customer(declining=True, churn_probability=0.6, clv=100.0, clv_intent=150.0)
    dormant_one_off = _customer(recency_days=250.0, frequency=0, monetary=0.0,
                                tenure_days=250.0, lifecycle_stage="first_time")
    tags = _tags([vip, new, lost, never, slipping, dormant_one_off, *_background()])

    assert {"high_value", "loyal", "frequent", "big_ticket"} <= tags[0]
    assert not tags[0] & {"new_customer", "lost", "churn_risk", "never_bought", "dormant",
                          "one_off", "declining"}
    assert "new_customer" in tags[1]
    assert not tags[1] & {"high_value", "frequent", "one_off", "lost", "never_bought", "loyal"}
    assert "lost" in tags[2]
    # A lost customer is not "at risk" any more, nor dormant.
    assert not tags[2] & {"churn_risk", "dormant", "new_customer", "never_bought", "loyal"}
    assert tags[3] == {"never_bought"}
    assert {"declining", "churn_risk", "growth_potential"} <= tags[4]
    assert {"dormant", "one_off"} <= tags[5]
    assert "lost" not in tags[5]


def test_frequent_and_big_ticket_are_the_top_fifth_of_window_buyers() -> None:
    n = 100
    customers = [_customer(frequency=i + 1, monetary=float(10 * (i + 1) * (n - i)))
                 for i in range(n)]
    customers += [_customer(frequency=0, monetary=0.0, recency_days=400.0)] * 50
    tags = _tags(customers)
    frequent = [i for i, t in enumerate(tags) if "frequent" in t]
    assert frequent == list(range(80, 100))  # non-window buyers do not dilute the cut
    big = [i for i, t in enumerate(tags) if "big_ticket" in t]
    assert big == list(range(20))  # spend per purchase 10 × (n - i), highest for the first


def test_growth_potential_from_high_clv_and_low_spend() -> None:
    customers = _background()
    customers.append(_customer(frequency=1, monetary=10.0, clv=50_000.0, clv_intent=50_000.0))
    assert "growth_potential" in _tags(customers)[-1]


def test_tags_are_documented() -> None:
    codes = [t.code for t in TAGS]
    assert len(set(codes)) == len(codes)
    assert all(t.label_zh and t.label_en and t.rule and t.rule_zh for t in TAGS)


def test_tag_inputs_are_checked() -> None:
    columns = {name: [v] * 3 for name, v in _customer().items()}
    columns["monetary"] = [1.0, 2.0]
    with pytest.raises(InputError) as err:
        profile_tags(**columns)  # type: ignore[arg-type]
    assert err.value.column == "monetary"
    columns["monetary"] = [1.0, 2.0, 3.0]
    columns["value_tier"] = ["vip", "regular", ""]  # not a value tier code
    with pytest.raises(InputError) as err:
        profile_tags(**columns)  # type: ignore[arg-type]
    assert (err.value.column, err.value.row) == ("value_tier", 2)


# --- clusters -------------------------------------------------------------------------------


def _three_groups(n: int = 400, seed: int = 1) -> tuple[dict[str, np.ndarray], np.ndarray]:
    rng = np.random.default_rng(seed)
    truth = np.repeat([0, 1, 2], n)
    recency = np.concatenate([rng.uniform(1, 30, n), rng.uniform(120, 200, n),
                              rng.uniform(450, 700, n)])
    frequency = np.concatenate([rng.poisson(20, n) + 12, rng.poisson(3, n) + 3,
                                np.ones(n)]).astype(np.float64)
    monetary = np.concatenate([rng.lognormal(np.log(8000), 0.2, n),
                               rng.lognormal(np.log(600), 0.2, n),
                               rng.lognormal(np.log(40), 0.2, n)])
    tenure = np.concatenate([rng.uniform(1200, 1600, n), rng.uniform(300, 500, n),
                             recency[2 * n:] + rng.uniform(0, 5, n)])
    order = rng.permutation(3 * n)
    features = {"recency_days": recency[order], "frequency": frequency[order],
                "monetary": monetary[order], "tenure_days": tenure[order]}
    return features, truth[order]


def test_clusters_recover_separated_groups() -> None:
    features, truth = _three_groups()
    clusters = cluster_customers(features)
    assert clusters.k == 3
    assert adjusted_rand_score(truth, clusters.labels) > 0.9
    m = features["monetary"]
    means = [m[clusters.labels == c].mean() for c in range(clusters.k)]
    assert means == sorted(means, reverse=True)  # label 0 spends most
    col = clusters.feature_names.index("monetary")
    assert clusters.centers[:, col] == pytest.approx(means)
    assert clusters.sizes.tolist() == np.bincount(clusters.labels).tolist()
    assert "high spend" in clusters.description_en[0]
    assert "recent" in clusters.description_en[0]
    assert "消费高" in clusters.description_zh[0]
    assert "low spend" in clusters.description_en[-1]
    json.dumps(clusters.to_dict())


def test_clusters_skip_missing_rows_and_repeat_with_the_seed() -> None:
    features, truth = _three_groups()
    features["tenure_days"][[3, 50]] = np.nan
    features["monetary"][7] = np.nan
    a = cluster_customers(features, k=3, seed=5)
    b = cluster_customers(features, k=3, seed=5)
    assert a.labels[[3, 7, 50]].tolist() == [-1, -1, -1]
    assert (np.delete(a.labels, [3, 7, 50]) >= 0).all()
    assert a.labels.tolist() == b.labels.tolist()
    assert a.centers.tolist() == b.centers.tolist()
    assert a.sizes.sum() == len(truth) - 3


def test_clusters_fitted_on_a_sample_label_every_row() -> None:
    features, truth = _three_groups()
    clusters = cluster_customers(features, k=3, max_fit_rows=150)
    assert (clusters.labels >= 0).all()
    assert adjusted_rand_score(truth, clusters.labels) > 0.9


def test_cluster_descriptions_for_other_features() -> None:
    rng = np.random.default_rng(0)
    x = np.concatenate([rng.normal(0, 1, 200), rng.normal(20, 1, 200)])
    y = rng.normal(5, 1, 400)
    clusters = cluster_customers({"visits": x, "score": y}, k=2)
    assert sorted(clusters.description_en) == ["high visits", "low visits"]
    assert sorted(clusters.description_zh) == ["visits低", "visits高"]
    uniform = cluster_customers({"score": np.tile([0.0, 0.1, 0.2, 0.3], 50)}, k=1)
    assert uniform.description_en == ("average",)
    assert uniform.description_zh == ("各项一般",)


def test_cluster_inputs_are_checked() -> None:
    features, _ = _three_groups()
    features["frequency"] = features["frequency"][:-1]
    with pytest.raises(InputError) as err:
        cluster_customers(features)
    assert err.value.column == "frequency"
    with pytest.raises(InputError) as err:
        cluster_customers({"monetary": [1.0, 2.0, np.nan, 4.0]}, k=4)
    assert err.value.column == "monetary"


def test_silhouette_scores_match_scikit_learn() -> None:
    rng = np.random.default_rng(3)
    z = rng.normal(size=(300, 3))
    z[:100] += 4
    labelings = [np.repeat([0, 1, 2], 100), rng.integers(0, 4, 300), np.arange(300) % 2]
    expected = [silhouette_score(z, lab) for lab in labelings]
    assert silhouette_scores(z, labelings).tolist() == pytest.approx(expected)


# --- association rules and also-bought ------------------------------------------------------

ITEMS = ["beer", "diapers", "chips", "milk", "bread"]
BASKETS = [
    ["beer", "diapers", "chips"],
    ["beer", "diapers"],
    ["beer", "diapers", "milk"],
    ["beer", "chips"],
    ["diapers", "milk"],
    ["milk", "bread"],
    ["bread"],
    ["milk", "bread", "diapers"],
    ["chips"],
    ["beer", "diapers", "diapers"],  # a repeated item counts once
]


def _lines(baskets: list[list[int]], ids: list[int] | None = None
           ) -> tuple[np.ndarray, np.ndarray]:
    ids = ids if ids is not None else list(range(len(baskets)))
    basket = [ids[i] for i, b in enumerate(baskets) for _ in b]
    item = [x for b in baskets for x in b]
    return np.array(basket, dtype=np.int64), np.array(item, dtype=np.int64)


def _coded() -> list[list[int]]:
    return [[ITEMS.index(x) for x in b] for b in BASKETS]


def test_beer_and_diapers() -> None:
    n = len(BASKETS)
    with_beer = sum("beer" in b for b in BASKETS)
    with_diapers = sum("diapers" in b for b in BASKETS)
    with_both = sum("beer" in b and "diapers" in b for b in BASKETS)
    rules = association_rules(*_lines(_coded()), min_support=0.1, min_confidence=0.5)
    assert rules.n_baskets == n
    pairs = list(zip(rules.antecedent.tolist(), rules.consequent.tolist(), strict=True))
    j = pairs.index((ITEMS.index("beer"), ITEMS.index("diapers")))
    assert rules.count[j] == with_both
    assert rules.support[j] == pytest.approx(with_both / n)
    assert rules.confidence[j] == pytest.approx(with_both / with_beer)
    assert rules.lift[j] == pytest.approx((with_both / with_beer) / (with_diapers / n))
    assert all(rules.lift >= 1.0) and all(rules.confidence >= 0.5)
    assert all(rules.support >= 0.1)
    assert list(rules.lift) == sorted(rules.lift, reverse=True)
    named = rules.to_dict(ITEMS)
    json.dumps(named)
    assert named["rules"][j]["antecedent_name"] == "beer"


def test_basket_codes_of_any_kind() -> None:
    coded = _coded()
    dense = association_rules(*_lines(coded), min_support=0, min_confidence=0, min_lift=0)
    rng = np.random.default_rng(0)
    far = rng.choice(10**15, size=len(coded), replace=False)
    for ids in (sorted(far.tolist()), far.tolist()):
        other = association_rules(*_lines(coded, ids), min_support=0, min_confidence=0,
                                  min_lift=0)
        assert other.to_dict() == dense.to_dict()


@settings(max_examples=60, deadline=None)
@given(st.lists(st.lists(st.integers(0, 6), min_size=1, max_size=5), min_size=1, max_size=40))
def test_rule_measures_property(baskets: list[list[int]]) -> None:
    rules = association_rules(*_lines(baskets), min_support=0, min_confidence=0, min_lift=0,
                              max_rules=10_000)
    sets = [set(b) for b in baskets]
    n = len(sets)
    support_of = {(a, b): s for a, b, s in zip(rules.antecedent.tolist(),
                                               rules.consequent.tolist(),
                                               rules.support.tolist(), strict=True)}
    for a, b, s, c, lift, cnt in zip(rules.antecedent.tolist(), rules.consequent.tolist(),
                                     rules.support.tolist(), rules.confidence.tolist(),
                                     rules.lift.tolist(), rules.count.tolist(), strict=True):
        assert cnt == sum(a in x and b in x for x in sets)
        assert s == pytest.approx(cnt / n)
        assert 0 <= c <= 1
        assert lift == pytest.approx(c / (sum(b in x for x in sets) / n))
        assert support_of[(b, a)] == s
    # Every co-occurring pair gives a rule each way.
    pairs = {(a, b) for x in sets for a in x for b in x if a != b}
    assert set(support_of) == pairs


def test_also_bought() -> None:
    beer, diapers = ITEMS.index("beer"), ITEMS.index("diapers")
    rules = association_rules(*_lines(_coded()), min_support=0.1, min_confidence=0.2)
    recommended = also_bought([beer], rules)
    assert recommended[0][0] == diapers
    scores = [s for _, s in recommended]
    assert scores == sorted(scores, reverse=True)
    owned = [beer, diapers]
    assert not {item for item, _ in also_bought(owned, rules, top=10)} & set(owned)
    assert len(also_bought(owned, rules, top=1)) <= 1
    assert diapers in {i for i, _ in also_bought(owned, rules, exclude_owned=False, top=10)}
    assert also_bought([], rules) == []


def test_rule_inputs_are_checked() -> None:
    with pytest.raises(InputError) as err:
        association_rules([1, 2, 3], [0, 1])
    assert err.value.column == "item"
    with pytest.raises(InputError) as err:
        association_rules([1, 2], [0, 1], min_support=2)
    assert err.value.column == "min_support"
    empty = association_rules([], [])
    assert empty.n_baskets == 0 and len(empty.lift) == 0
