"""Customer profiles (客户画像): tags on one customer, groups found by clustering, association
rules and "customers like this also bought" (DOMAIN.md section 2, source 003 §5.7.3).

Tags (单客户画像): :data:`TAGS` lists rule-based tags on the measures the engine already computes
(RFM, value tier, lifecycle stage and decline, churn probability, CLV with intent);
:func:`profile_tags` applies them. Relative thresholds are percentiles among customers who
bought in the RFM window (``frequency >= 1``), or among customers with a CLV. The tags and
their rules are Guanxi's addition (not in the sources); each tag's ``rule`` states it.

Clusters (群体客户画像), :func:`cluster_customers`, following the source's pipeline (clean,
reduce, weight, model):

* clean: a row with a missing (NaN) or infinite feature is not clustered (label -1);
* reduce: a feature whose values are all non-negative and whose skewness exceeds 1 is
  compressed with ``log1p`` (spend and purchase counts have long right tails);
* weight: every feature is standardised, ``z = (x - mean) / sd`` over the clustered rows, so
  each weighs the same (a constant feature gets ``z = 0`` and no weight);
* model: k-means (scikit-learn, ``n_init=4``, ``random_state=seed``) fitted on at most
  ``max_fit_rows`` rows drawn with the seed; every row then goes to its nearest centre. Without
  a given ``k`` the number of clusters is the one of 3..6 with the best mean silhouette score
  (the smallest on a tie), each candidate fitted and scored on one sample of 10,000 of those
  rows (:func:`silhouette_scores`: scikit-learn's score, with one pass over the distances for
  all candidates).

Clusters are numbered by their members' mean ``monetary``, highest first (by size when there is
no ``monetary`` feature). Each cluster is described by comparing its mean ``z`` per feature with
the population's (0): above +0.5 is high, below -0.5 low, else typical and unmentioned. The
preprocessing rules, the ordering and the descriptions are Guanxi's addition.

Association rules ("beer and diapers"), :func:`association_rules`, over N baskets (an item
repeated in a basket counts once), for one-item rules A ⇒ B with n(X) the baskets holding X:

    support(A ⇒ B) = n(A and B) / N
    confidence(A ⇒ B) = n(A and B) / n(A) = P(B | A)
    lift(A ⇒ B) = confidence(A ⇒ B) / support(B) = n(A and B) N / (n(A) n(B))

Rules need support, confidence and lift at least the given minimums. Only items whose own
support reaches ``min_support`` can be in such a rule, so the co-occurrence counts
``n(A and B)`` come from the product ``Xᵀ X`` of the basket × item 0/1 matrix restricted to
those items, which stays small. The sources name association rules and recommendation as uses
of a profile; the measures are the standard ones (Agrawal, Imieliński and Swami 1993; lift:
Brin, Motwani, Ullman and Tsur 1997). Keeping to one-item rules, their order (lift, then
confidence, then count, descending) and the also-bought score are Guanxi's addition:
:func:`also_bought` scores an item B, for a customer owning items O, by the sum of
``confidence × lift`` over the rules A ⇒ B with A in O.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray

from guanxi.analytics.engine.abc import VALUE_TIERS
from guanxi.analytics.engine.errors import InputError


@dataclass(frozen=True)
class Tag:
    """A rule-based customer tag with its labels and its rule in plain English and Chinese."""

    code: str
    label_zh: str
    label_en: str
    rule: str
    rule_zh: str = ""


#: Days since the first purchase within which a customer is new.
NEW_CUSTOMER_DAYS = 90
#: Days without a purchase from which a customer (not yet lost) is dormant.
DORMANT_DAYS = 180
#: Days without a purchase from which a customer is no longer dormant (the default for lost).
DORMANT_END_DAYS = 365
#: Days since a single purchase day from which a customer is a one-off buyer.
ONE_OFF_DAYS = 180
#: Share of the reference customers counted as "top" (frequent, big ticket, high CLV).
TOP_SHARE = 0.2
#: Churn probability from which a customer (not lost) is at risk.
CHURN_RISK_PROBABILITY = 0.5
#: Factor by which CLV with intent must exceed the model CLV to show growth potential.
GROWTH_FACTOR = 1.2

_TOP = f"{round(100 * (1 - TOP_SHARE))}th percentile"
_TOP_ZH = f"第 {round(100 * (1 - TOP_SHARE))} 百分位"

#: The rule-based tags, in display order.
TAGS: tuple[Tag, ...] = (
    Tag("high_value", "高价值", "high value",
        "value tier VIP or major (by default the top 5% of buyers by spend in the RFM window)",
        "价值等级为贵宾型或重要型（默认为 RFM 窗口内消费额最高的 5% 购买客户）"),
    Tag("loyal", "忠诚", "loyal", "lifecycle stage loyal", "客户生命周期阶段为忠诚客户"),
    Tag("frequent", "高频", "frequent",
        f"purchases in the RFM window at or above the {_TOP} of the customers who bought in "
        "it, and at least 2",
        f"RFM 窗口内购买次数不低于窗口内购买客户的{_TOP_ZH}，且至少 2 次"),
    Tag("big_ticket", "大单", "big ticket",
        f"spend per purchase in the RFM window (monetary / frequency) at or above the {_TOP} "
        "of the customers who bought in it",
        f"RFM 窗口内每次购买金额（消费额 ÷ 次数）不低于窗口内购买客户的{_TOP_ZH}"),
    Tag("growth_potential", "增长潜力", "growth potential",
        f"CLV with intent above {GROWTH_FACTOR} × the model CLV (and positive), or a model CLV "
        f"at or above the {_TOP} of the customers with a CLV while spend in the RFM window is "
        "below the median of the customers who bought in it",
        f"含意向 CLV 高于模型 CLV 的 {GROWTH_FACTOR} 倍（且为正），或模型 CLV 不低于有 CLV 客户的"
        f"{_TOP_ZH}而 RFM 窗口内消费额低于窗口内购买客户的中位数"),
    Tag("new_customer", "新客户", "new customer",
        f"first purchase within the last {NEW_CUSTOMER_DAYS} days",
        f"首次购买在最近 {NEW_CUSTOMER_DAYS} 天内"),
    Tag("one_off", "一次性", "one-off",
        f"bought on a single day (first purchase = last purchase) more than {ONE_OFF_DAYS} "
        "days ago",
        f"只在一天购买过（首次购买 = 最近购买），且在 {ONE_OFF_DAYS} 天以前"),
    Tag("declining", "消费下降", "declining",
        "buying less often or spending less than before (the lifecycle decline flag)",
        "购买频率或消费额低于以往（生命周期的下降标记）"),
    Tag("churn_risk", "流失风险", "churn risk",
        f"churn probability at least {CHURN_RISK_PROBABILITY} and not lost",
        f"流失概率不低于 {CHURN_RISK_PROBABILITY} 且尚未流失"),
    Tag("dormant", "沉睡", "dormant",
        f"last purchase {DORMANT_DAYS} to {DORMANT_END_DAYS - 1} days ago and not lost",
        f"最近一次购买在 {DORMANT_DAYS} 至 {DORMANT_END_DAYS - 1} 天前，且尚未流失"),
    Tag("lost", "已流失", "lost",
        "lifecycle stage lost (by default no purchase in 365 days)",
        "客户生命周期阶段为流失客户（默认为 365 天内没有购买）"),
    Tag("never_bought", "未购买", "never bought", "no purchase on record", "没有购买记录"),
)

_TIER_CODES = ("", *(t.code for t in VALUE_TIERS))
_STAGE_CODES = ("", "suspect", "prospect", "first_time", "repeat", "loyal", "lost")


def _float(values: ArrayLike, name: str, n: int | None) -> NDArray[np.float64]:
    try:
        arr = np.asarray(values, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise InputError(f"values must be numbers ({exc})", column=name) from None
    if arr.ndim != 1:
        raise InputError(f"must be one-dimensional, got shape {arr.shape}", column=name)
    if n is not None and len(arr) != n:
        raise InputError(f"has {len(arr)} rows, expected {n}", column=name)
    return arr


def _codes(values: ArrayLike, name: str, n: int, allowed: tuple[str, ...]) -> NDArray[np.str_]:
    arr = np.asarray(values)
    if arr.ndim != 1:
        raise InputError(f"must be one-dimensional, got shape {arr.shape}", column=name)
    if len(arr) != n:
        raise InputError(f"has {len(arr)} rows, expected {n}", column=name)
    arr = arr.astype(str)
    known = np.zeros(n, dtype=bool)
    for code in allowed:
        known |= arr == code
    if not known.all():
        bad = int(np.flatnonzero(~known)[0])
        raise InputError(f"unknown code {arr[bad]!r}; expected one of {allowed}",
                         column=name, row=bad + 1)
    return arr


def _at_or_above_quantile(values: NDArray[np.float64], ref: NDArray[np.bool_]
                          ) -> NDArray[np.bool_]:
    """``values`` at or above the top-share percentile of ``values[ref]`` (none if empty)."""
    pool = values[ref & np.isfinite(values)]
    if pool.size == 0:
        return np.zeros(values.shape, dtype=bool)
    return values >= np.quantile(pool, 1 - TOP_SHARE)


def profile_tags(
    *,
    recency_days: ArrayLike,
    frequency: ArrayLike,
    monetary: ArrayLike,
    tenure_days: ArrayLike,
    value_tier: ArrayLike,
    lifecycle_stage: ArrayLike,
    declining: ArrayLike,
    churn_probability: ArrayLike,
    clv: ArrayLike,
    clv_intent: ArrayLike,
) -> NDArray[np.bool_]:
    """Boolean matrix (n customers × len(TAGS)): which tags apply to each customer.

    All arrays have one length n. ``recency_days`` and ``tenure_days`` are days since the last
    and the first purchase (NaN: never bought); ``frequency`` and ``monetary`` the purchases
    and spend in the RFM window; ``value_tier`` a code of :data:`~.abc.VALUE_TIERS` or "";
    ``lifecycle_stage`` one of "suspect", "prospect", "first_time", "repeat", "loyal", "lost"
    or ""; ``churn_probability``, ``clv`` and ``clv_intent`` NaN when unknown.
    """
    recency = _float(recency_days, "recency_days", None)
    n = len(recency)
    freq = _float(frequency, "frequency", n)
    money = _float(monetary, "monetary", n)
    tenure = _float(tenure_days, "tenure_days", n)
    tier = _codes(value_tier, "value_tier", n, _TIER_CODES)
    stage = _codes(lifecycle_stage, "lifecycle_stage", n, _STAGE_CODES)
    decl = np.asarray(declining)
    if decl.ndim != 1 or len(decl) != n:
        raise InputError(f"has shape {decl.shape}, expected ({n},)", column="declining")
    decl = decl.astype(bool)
    churn = _float(churn_probability, "churn_probability", n)
    value = _float(clv, "clv", n)
    intent = _float(clv_intent, "clv_intent", n)
    if np.any(freq < 0):
        raise InputError("must not be negative", column="frequency",
                         row=int(np.flatnonzero(freq < 0)[0]) + 1)
    outside = (churn < 0) | (churn > 1)
    if np.any(outside):
        raise InputError("must be between 0 and 1 (or NaN)", column="churn_probability",
                         row=int(np.flatnonzero(outside)[0]) + 1)

    bought = np.isfinite(recency)
    in_window = freq >= 1
    lost = stage == "lost"
    with np.errstate(invalid="ignore", divide="ignore"):
        per_purchase = np.where(in_window, money / np.where(in_window, freq, 1.0), np.nan)
    window_money = money[in_window & np.isfinite(money)]
    below_median = (money < np.median(window_money)) if window_money.size else np.zeros(n, bool)
    has_value = np.isfinite(value)
    top_value = _at_or_above_quantile(value, has_value) & (value > 0)
    growth = has_value & (intent > 0) & (intent > GROWTH_FACTOR * np.maximum(value, 0.0))
    growth |= top_value & below_median

    columns = {
        "high_value": (tier == "vip") | (tier == "major"),
        "loyal": stage == "loyal",
        "frequent": _at_or_above_quantile(freq, in_window) & (freq >= 2),
        "big_ticket": _at_or_above_quantile(per_purchase, in_window) & in_window,
        "growth_potential": growth,
        "new_customer": tenure <= NEW_CUSTOMER_DAYS,
        "one_off": (np.abs(tenure - recency) < 0.5) & (recency > ONE_OFF_DAYS),
        "declining": decl,
        "churn_risk": (churn >= CHURN_RISK_PROBABILITY) & ~lost,
        "dormant": (recency >= DORMANT_DAYS) & (recency < DORMANT_END_DAYS) & ~lost,
        "lost": lost,
        "never_bought": ~bought,
    }
    out = np.empty((n, len(TAGS)), dtype=bool)
    for j, tag in enumerate(TAGS):
        out[:, j] = columns[tag.code]
    return out


# --- clusters ---------------------------------------------------------------------------------

#: Words for a high or low standardised centre, per known feature: (zh, en).
FEATURE_WORDS: dict[str, dict[str, tuple[str, str]]] = {
    "recency_days": {"high": ("久未购买", "long since last purchase"),
                     "low": ("近期活跃", "recent")},
    "frequency": {"high": ("购买频繁", "frequent"), "low": ("购买稀少", "rare")},
    "monetary": {"high": ("消费高", "high spend"), "low": ("消费低", "low spend")},
    "tenure_days": {"high": ("老客户", "long-standing"), "low": ("新客户", "new")},
}
#: Standardised distance from the population mean beyond which a centre is high or low.
DESCRIBE_THRESHOLD = 0.5
#: Skewness above which a non-negative feature is compressed with log1p.
SKEW_LIMIT = 1.0
#: Candidate numbers of clusters when none is given, and the silhouette sample size.
K_CANDIDATES = (3, 4, 5, 6)
SILHOUETTE_SAMPLE = 10_000
_BLOCK = 1 << 17


@dataclass(frozen=True)
class Clusters:
    """Clusters of customers: a label per input row (-1: not clustered) and per cluster its
    centre in the original units, its size and a short description in Chinese and English."""

    labels: NDArray[np.int64]
    k: int
    feature_names: tuple[str, ...]
    centers: NDArray[np.float64]  # k × features, the members' means in the original units
    sizes: NDArray[np.int64]
    description_zh: tuple[str, ...]
    description_en: tuple[str, ...]

    def to_dict(self) -> dict:
        """The clusters without the per-row labels, JSON-ready."""
        return {
            "model": "kmeans",
            "k": self.k,
            "features": list(self.feature_names),
            "centers": [[float(x) for x in row] for row in self.centers],
            "sizes": [int(s) for s in self.sizes],
            "description_zh": list(self.description_zh),
            "description_en": list(self.description_en),
        }


def _skewness(x: NDArray[np.float64]) -> float:
    d = x - x.mean()
    m2 = float(np.mean(d * d))
    if m2 <= 0:
        return 0.0
    return float(np.mean(d * d * d)) / m2**1.5


def _nearest(z: NDArray[np.float64], centers: NDArray[np.float64]) -> NDArray[np.int64]:
    """Index of the nearest centre for each row of ``z``, in blocks of rows."""
    out = np.empty(len(z), dtype=np.int64)
    c2 = np.einsum("ij,ij->i", centers, centers)
    ct = np.ascontiguousarray(centers.T)
    for lo in range(0, len(z), _BLOCK):
        block = z[lo:lo + _BLOCK]
        out[lo:lo + _BLOCK] = np.argmin(c2 - 2.0 * (block @ ct), axis=1)
    return out


def silhouette_scores(z: NDArray[np.float64], labelings: list[ArrayLike]
                      ) -> NDArray[np.float64]:
    """Mean silhouette coefficient of each labelling of the rows of ``z`` (Euclidean), as
    ``sklearn.metrics.silhouette_score`` gives it, with one pass over the pairwise distances
    shared by all labellings: for row i in cluster A, a = mean distance to the other members
    of A, b = the smallest mean distance to the members of another cluster, s = (b - a) /
    max(a, b), 0 for a row alone in its cluster. A labelling with fewer than 2 or more than
    n - 1 clusters scores -inf."""
    n = len(z)
    onehots: list[NDArray[np.float64]] = []
    codes: list[NDArray[np.int64]] = []
    for labels in labelings:
        _, code = np.unique(np.asarray(labels), return_inverse=True)
        code = code.reshape(-1)
        codes.append(code)
        m = int(code.max()) + 1 if n else 0
        onehot = np.zeros((n, m))
        onehot[np.arange(n), code] = 1.0
        onehots.append(onehot)
    sums = [np.empty_like(o) for o in onehots]
    sq = np.einsum("ij,ij->i", z, z)
    step = max(1, (1 << 22) // max(n, 1))
    for lo in range(0, n, step):
        block = z[lo:lo + step]
        d2 = sq[lo:lo + step, None] + sq[None, :] - 2.0 * (block @ z.T)
        np.maximum(d2, 0.0, out=d2)
        d = np.sqrt(d2, out=d2)
        d[np.arange(len(block)), np.arange(lo, lo + len(block))] = 0.0  # exact self-distance
        for total, onehot in zip(sums, onehots, strict=True):
            total[lo:lo + step] = d @ onehot
    out = np.full(len(labelings), -np.inf)
    for j, (total, onehot, code) in enumerate(zip(sums, onehots, codes, strict=True)):
        size = onehot.sum(axis=0)
        m = len(size)
        if not 2 <= m <= n - 1:
            continue
        rows = np.arange(n)
        own = size[code]
        with np.errstate(invalid="ignore", divide="ignore"):
            a = total[rows, code] / (own - 1)
            other = total / size
        other[rows, code] = np.inf
        b = other.min(axis=1)
        with np.errstate(invalid="ignore", divide="ignore"):
            sil = (b - a) / np.maximum(a, b)
        sil[own <= 1] = 0.0
        out[j] = float(np.mean(np.nan_to_num(sil, nan=0.0)))
    return out


def _describe(zc: NDArray[np.float64], names: tuple[str, ...]) -> tuple[str, str]:
    zh: list[str] = []
    en: list[str] = []
    for name, v in zip(names, zc, strict=True):
        if v > DESCRIBE_THRESHOLD:
            level = "high"
        elif v < -DESCRIBE_THRESHOLD:
            level = "low"
        else:
            continue
        words = FEATURE_WORDS.get(name)
        if words is None:
            zh.append(f"{name}{'高' if level == 'high' else '低'}")
            en.append(f"{level} {name}")
        else:
            zh.append(words[level][0])
            en.append(words[level][1])
    if not en:
        return "各项一般", "average"
    return "、".join(zh), ", ".join(en)


def cluster_customers(
    features: dict[str, ArrayLike],
    *,
    k: int | None = None,
    seed: int = 0,
    max_fit_rows: int = 100_000,
) -> Clusters:
    """k-means clusters of customers on the named features (see the module docstring)."""
    from sklearn.cluster import KMeans

    if not features:
        raise InputError("no features given")
    names = tuple(features)
    columns: list[NDArray[np.float64]] = []
    n: int | None = None
    for name in names:
        col = _float(features[name], name, n)
        n = len(col)
        columns.append(col)
    assert n is not None
    if k is not None and (isinstance(k, bool) or int(k) != k or k < 1):
        raise InputError(f"k must be a positive whole number, got {k!r}")
    if max_fit_rows < 1:
        raise InputError(f"max_fit_rows must be at least 1, got {max_fit_rows}")
    need = k if k is not None else K_CANDIDATES[0]

    x = np.column_stack(columns) if n else np.empty((0, len(names)))
    finite = np.isfinite(x)
    valid = finite.all(axis=1)
    rows = np.flatnonzero(valid)
    if len(rows) < need or max_fit_rows < need:
        missing = (~finite).sum(axis=0)
        worst = names[int(np.argmax(missing))] if missing.any() else None
        raise InputError(
            f"{len(rows)} of {n} rows can be clustered (no missing value), fewer than "
            f"{need} clusters" + ("" if max_fit_rows >= need else
                                  f" or max_fit_rows {max_fit_rows}"),
            column=worst,
        )

    xv = x[rows]
    z = np.empty_like(xv)
    logged = np.zeros(len(names), dtype=bool)
    means = np.zeros(len(names))
    sds = np.ones(len(names))
    for j in range(len(names)):
        col = xv[:, j]
        if col.min() >= 0 and _skewness(col) > SKEW_LIMIT:
            col = np.log1p(col)
            logged[j] = True
        means[j] = col.mean()
        sd = col.std()
        if sd > 0:
            sds[j] = sd
            z[:, j] = (col - means[j]) / sd
        else:
            z[:, j] = 0.0

    rng = np.random.default_rng(seed)
    if len(rows) > max_fit_rows:
        fit_rows = np.sort(rng.choice(len(rows), size=max_fit_rows, replace=False))
        z_fit = z[fit_rows]
    else:
        z_fit = z

    def fit(n_clusters: int, data: NDArray[np.float64]) -> KMeans:
        return KMeans(n_clusters=n_clusters, n_init=4, random_state=seed).fit(data)

    if k is None:
        # Each candidate is fitted and scored on one sample of the fitted rows.
        sample = z_fit
        if len(z_fit) > SILHOUETTE_SAMPLE:
            sample = z_fit[np.sort(rng.choice(len(z_fit), SILHOUETTE_SAMPLE, replace=False))]
        cands = [c for c in K_CANDIDATES if c <= len(sample)]
        scores = silhouette_scores(sample, [fit(c, sample).labels_ for c in cands])
        k = cands[int(np.argmax(scores))]  # the first best
    model = fit(int(k), z_fit)
    n_clusters = int(model.n_clusters)
    model_centers = np.asarray(model.cluster_centers_, dtype=np.float64)

    assigned = _nearest(z, model_centers)
    sizes = np.bincount(assigned, minlength=n_clusters).astype(np.int64)
    centers = np.empty((n_clusters, len(names)))
    zc = np.empty((n_clusters, len(names)))
    with np.errstate(invalid="ignore", divide="ignore"):
        for j in range(len(names)):
            centers[:, j] = np.bincount(assigned, weights=xv[:, j], minlength=n_clusters) / sizes
            zc[:, j] = np.bincount(assigned, weights=z[:, j], minlength=n_clusters) / sizes
    empty = sizes == 0
    if empty.any():  # a centre no row is nearest to (duplicated points): the model's
        zc[empty] = model_centers[empty]
        back = zc[empty] * sds + means
        centers[empty] = np.where(logged, np.expm1(back), back)

    # Most valuable first: by mean monetary, else by size; ties by the standardised centres.
    keys = [zc[:, j] for j in reversed(range(len(names)))]
    if "monetary" in names:
        primary = -np.nan_to_num(centers[:, names.index("monetary")], nan=-np.inf)
    else:
        primary = -sizes.astype(np.float64)
    order = np.lexsort((*keys, primary))
    relabel = np.empty(n_clusters, dtype=np.int64)
    relabel[order] = np.arange(n_clusters)

    labels = np.full(n, -1, dtype=np.int64)
    labels[rows] = relabel[assigned]
    described = [_describe(zc[c], names) for c in order]
    return Clusters(
        labels=labels,
        k=n_clusters,
        feature_names=names,
        centers=centers[order],
        sizes=sizes[order],
        description_zh=tuple(d[0] for d in described),
        description_en=tuple(d[1] for d in described),
    )


# --- association rules ------------------------------------------------------------------------

@dataclass(frozen=True)
class Rules:
    """One-item association rules A ⇒ B, best first (see the module docstring)."""

    antecedent: NDArray[np.int64]
    consequent: NDArray[np.int64]
    support: NDArray[np.float64]
    confidence: NDArray[np.float64]
    lift: NDArray[np.float64]
    count: NDArray[np.int64]
    n_baskets: int

    def to_dict(self, item_names: list[str] | None = None) -> dict:
        """JSON-ready rules; with ``item_names`` (indexed by item code) each rule also names
        its items."""
        rules = []
        for a, b, s, c, lf, cnt in zip(
            self.antecedent.tolist(), self.consequent.tolist(), self.support.tolist(),
            self.confidence.tolist(), self.lift.tolist(), self.count.tolist(), strict=True,
        ):
            rule = {"antecedent": a, "consequent": b, "support": s, "confidence": c,
                    "lift": lf, "count": cnt}
            if item_names is not None:
                rule["antecedent_name"] = item_names[a]
                rule["consequent_name"] = item_names[b]
            rules.append(rule)
        return {"model": "association_rules", "n_baskets": self.n_baskets, "rules": rules}


def _empty_rules(n_baskets: int) -> Rules:
    i = np.zeros(0, dtype=np.int64)
    f = np.zeros(0, dtype=np.float64)
    return Rules(i, i.copy(), f, f.copy(), f.copy(), i.copy(), n_baskets)


def association_rules(
    basket: ArrayLike,
    item: ArrayLike,
    *,
    min_support: float = 0.001,
    min_confidence: float = 0.1,
    min_lift: float = 1.0,
    max_rules: int = 200,
) -> Rules:
    """One-item rules A ⇒ B from basket lines (one row per line; an item repeated in a basket
    counts once), sorted by lift, confidence and count (descending), then antecedent and
    consequent; at most ``max_rules``."""
    from scipy import sparse

    b = np.asarray(basket)
    it = np.asarray(item)
    for arr, name in ((b, "basket"), (it, "item")):
        if arr.ndim != 1:
            raise InputError(f"must be one-dimensional, got shape {arr.shape}", column=name)
        if arr.size and not np.issubdtype(arr.dtype, np.integer):
            raise InputError(f"must be whole numbers, got {arr.dtype}", column=name)
    if len(b) != len(it):
        raise InputError(f"has {len(it)} rows, expected {len(b)} (as basket)", column="item")
    for value, name in ((min_support, "min_support"), (min_confidence, "min_confidence")):
        if not 0 <= value <= 1:
            raise InputError(f"must be between 0 and 1, got {value}", column=name)
    if not min_lift >= 0:
        raise InputError(f"must not be negative, got {min_lift}", column="min_lift")
    if max_rules < 0:
        raise InputError(f"must not be negative, got {max_rules}", column="max_rules")
    if len(b) == 0:
        return _empty_rules(0)
    it = it.astype(np.int64, copy=False)
    if it.min() < 0:
        raise InputError("item codes must not be negative", column="item",
                         row=int(np.argmin(it)) + 1)
    n_items = int(it.max()) + 1

    # Basket rows: the codes themselves (offset) when their range is compact, a running count
    # of changes when the lines are ordered by basket, else dense codes.
    lo, hi = int(b.min()), int(b.max())
    if hi - lo <= len(b) + 1024:
        rows = (b.astype(np.int64, copy=False) - lo)
        n_rows = hi - lo + 1
    elif np.all(b[1:] >= b[:-1]):
        rows = np.concatenate(([0], np.cumsum(b[1:] != b[:-1], dtype=np.int64)))
        n_rows = int(rows[-1]) + 1
    else:
        _, rows = np.unique(b, return_inverse=True)
        rows = rows.reshape(-1)
        n_rows = int(rows.max()) + 1
    x = sparse.csr_matrix(
        (np.ones(len(rows), dtype=np.int32), (rows, it)), shape=(n_rows, n_items))
    x.sum_duplicates()
    x.data[:] = 1  # an item repeated in a basket counts once
    n_baskets = int(np.count_nonzero(np.diff(x.indptr)))
    item_count = np.bincount(x.indices, minlength=n_items).astype(np.int64)

    frequent = np.flatnonzero((item_count > 0) & (item_count / n_baskets >= min_support))
    if len(frequent) < 2 or max_rules == 0:
        return _empty_rules(n_baskets)
    column = np.full(n_items, -1, dtype=np.int64)
    column[frequent] = np.arange(len(frequent))
    keep = column[x.indices] >= 0
    indptr = np.concatenate(([0], np.cumsum(keep, dtype=np.int64)))[x.indptr]
    xf = sparse.csr_matrix(
        (x.data[keep], column[x.indices[keep]], indptr), shape=(n_rows, len(frequent)))
    del x
    co = (xf.T @ xf).tocoo()  # co-occurrence counts of the frequent items
    off = co.row != co.col
    a_col, b_col = co.row[off], co.col[off]
    both = co.data[off].astype(np.int64)

    a_items, b_items = frequent[a_col], frequent[b_col]
    n_a, n_b = item_count[a_items], item_count[b_items]
    support = both / n_baskets
    confidence = both / n_a
    lift = both * float(n_baskets) / (n_a.astype(np.float64) * n_b)
    ok = (support >= min_support) & (confidence >= min_confidence) & (lift >= min_lift)
    a_items, b_items, both = a_items[ok], b_items[ok], both[ok]
    support, confidence, lift = support[ok], confidence[ok], lift[ok]
    order = np.lexsort((b_items, a_items, -both, -confidence, -lift))[:max_rules]
    return Rules(
        antecedent=a_items[order],
        consequent=b_items[order],
        support=support[order],
        confidence=confidence[order],
        lift=lift[order],
        count=both[order],
        n_baskets=n_baskets,
    )


def also_bought(
    owned: ArrayLike, rules: Rules, *, top: int = 5, exclude_owned: bool = True
) -> list[tuple[int, float]]:
    """"Customers like this also bought": for one customer who owns the items ``owned``, items
    ranked by the sum over the rules whose antecedent they own of confidence × lift (score),
    excluding what they own; at most ``top`` (item, score) pairs, best first, ties by item."""
    have = np.unique(np.asarray(owned, dtype=np.int64).reshape(-1))
    if top <= 0 or len(rules.antecedent) == 0 or len(have) == 0:
        return []
    use = np.isin(rules.antecedent, have)
    if exclude_owned:
        use &= ~np.isin(rules.consequent, have)
    if not use.any():
        return []
    items, inverse = np.unique(rules.consequent[use], return_inverse=True)
    score = np.bincount(inverse.reshape(-1), weights=rules.confidence[use] * rules.lift[use],
                        minlength=len(items))
    order = np.lexsort((items, -score))[:top]
    return [(int(items[i]), float(score[i])) for i in order]
