"""Churn early warning: each customer's probability of buying nothing in the next horizon,
learned from their purchase behaviour and its trend (plus interactions, complaints and
satisfaction where the caller has them), trained on a time split and always reported next to
the BG/NBD baseline ``1 - P(alive)`` on the same split.

DOMAIN.md section 7 (churn management: early warning → who → why → win back). The model and
its features are Guanxi's addition (not in the sources):

* Split: with horizon ``h`` days and as-of date ``D``, the model is trained on features as of
  ``D - 2h`` with labels from ``(D - 2h, D - h]``, evaluated on features as of ``D - h`` with
  labels from ``(D - h, D]`` (a later, held-out period), then refit on that later period and
  applied to features as of ``D``. Only customers who bought on or before the feature date
  are in a sample; the label is 1 when they made no purchase in the label period.
* Features (per customer, as of the feature date): days since the last purchase, purchase days
  and spend in the last 365 days (log), tenure, mean gap between purchase days, the ratio of the
  current gap to the mean gap, recent (last 90 days) to earlier purchase-day rate and spend rate,
  BG/NBD's P(alive) fitted on the same history, and any extra columns given.
* Model: logistic regression on standardised features (scikit-learn), so that each customer's
  top reasons are the features pushing the probability up most (coefficient × standardised
  value), in plain words. Nine coefficients need far fewer rows than a large customer base
  has: a fit uses at most :data:`MAX_TRAIN_ROWS` customers drawn at random (seeded, so a
  refresh is repeatable); the evaluation and the predictions cover every customer.
* Evaluation on the held-out period: ROC AUC, precision in the top decile (the share of real
  churners among the 10% ranked most at risk), Brier score and a 10-bin calibration table, for
  the model and the baseline.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from numpy.typing import ArrayLike, NDArray

from guanxi.analytics.engine.bgnbd import fit_bgnbd, p_alive
from guanxi.analytics.engine.days import day_number
from guanxi.analytics.engine.errors import InputError
from guanxi.analytics.engine.groups import daily_log

FEATURES = (
    "recency_days",
    "log_frequency_365",
    "log_spend_365",
    "tenure_days",
    "mean_gap_days",
    "gap_ratio",
    "frequency_trend",
    "spend_trend",
    "p_alive",
)

#: Largest training sample for one fit (customers drawn at random beyond it).
MAX_TRAIN_ROWS = 200_000

#: Plain-language reason per feature, used when the feature raises a customer's risk.
REASONS = {
    "recency_days": "long since the last purchase",
    "log_frequency_365": "few purchases in the last year",
    "log_spend_365": "low spend in the last year",
    "tenure_days": "a young relationship",
    "mean_gap_days": "usually buys rarely",
    "gap_ratio": "overdue against their own rhythm",
    "frequency_trend": "buying less often than before",
    "spend_trend": "spending less than before",
    "p_alive": "purchase pattern suggests they have stopped (BG/NBD)",
}


@dataclass(frozen=True)
class Scores:
    """Model metrics on a held-out period."""

    auc: float
    top_decile_precision: float
    brier: float
    calibration: list[tuple[float, float, int]]  # (mean predicted, observed rate, count)


@dataclass(frozen=True)
class ChurnModel:
    """The fitted early-warning model, its evaluation and the current predictions."""

    feature_names: tuple[str, ...]
    coef: NDArray[np.float64]
    intercept: float
    mean: NDArray[np.float64]
    scale: NDArray[np.float64]
    model: Scores
    baseline: Scores
    n_train: int
    n_test: int
    churn_rate_test: float
    customer: NDArray[np.int64]  # codes scored as of the as-of date
    probability: NDArray[np.float64]
    baseline_probability: NDArray[np.float64]
    #: Per scored customer, the indexes into :attr:`reason_texts` of their top reasons,
    #: strongest first; -1 pads a row with fewer reasons.
    reason_index: NDArray[np.int16] = field(default_factory=lambda: np.zeros((0, 0), np.int16))
    reason_texts: tuple[str, ...] = ()

    @property
    def beats_baseline(self) -> bool:
        return self.model.auc > self.baseline.auc

    @property
    def reasons(self) -> list[list[str]]:
        """Each scored customer's top reasons as plain text (a list per customer)."""
        texts = self.reason_texts
        return [[texts[j] for j in row if j >= 0] for row in self.reason_index.tolist()]

    def to_dict(self) -> dict:
        def s(x: Scores) -> dict:
            return {
                "auc": x.auc,
                "top_decile_precision": x.top_decile_precision,
                "brier": x.brier,
                "calibration": x.calibration,
            }

        return {
            "model": "churn_logistic",
            "features": list(self.feature_names),
            "coef": self.coef.tolist(),
            "intercept": self.intercept,
            "evaluation": {
                "model": s(self.model),
                "baseline_1_minus_p_alive": s(self.baseline),
                "n_train": self.n_train,
                "n_test": self.n_test,
                "churn_rate": self.churn_rate_test,
            },
            "beats_baseline": self.beats_baseline,
        }


@dataclass(frozen=True)
class _Daily:
    """The log merged to one row per (customer, day), ordered by customer then day, with the
    first row of each customer's run (``starts``) and that customer's code (``owner``)."""

    day: NDArray[np.int32]
    amount: NDArray[np.float64]
    starts: NDArray[np.int64]
    owner: NDArray[np.int64]
    n: int

    @classmethod
    def of(cls, customer: NDArray[np.int64], day: NDArray[np.int32],
           amount: NDArray[np.float64], n: int) -> _Daily:
        ordered = len(customer) < 2
        if not ordered:
            step = np.diff(customer)
            ordered = bool((step >= 0).all()) and bool(((step > 0) | (np.diff(day) > 0)).all())
            del step
        if not ordered:
            ids, code, day, amount = daily_log(customer, day, amount)
            customer = ids[code]
        if len(customer) == 0:
            empty = np.zeros(0, dtype=np.int64)
            return cls(day.astype(np.int32), amount.astype(np.float64), empty, empty, n)
        starts = np.flatnonzero(np.r_[True, customer[1:] != customer[:-1]]).astype(np.int64)
        return cls(day.astype(np.int32, copy=False), amount.astype(np.float64, copy=False),
                   starts, customer[starts].astype(np.int64), n)

    def count(self, where: NDArray[np.bool_]) -> NDArray[np.int64]:
        """Purchase days per customer where ``where`` holds."""
        out = np.zeros(self.n, dtype=np.int64)
        if len(self.starts):
            out[self.owner] = np.add.reduceat(where, self.starts, dtype=np.int64)
        return out

    def total(self, where: NDArray[np.bool_]) -> NDArray[np.float64]:
        """Spend per customer where ``where`` holds."""
        out = np.zeros(self.n, dtype=np.float64)
        if len(self.starts):
            out[self.owner] = np.add.reduceat(np.where(where, self.amount, 0.0), self.starts)
        return out

    def window(self, start: int, end: int) -> NDArray[np.bool_]:
        """Rows on days in (start, end]."""
        return (self.day > start) & (self.day <= end)


def features(
    customer: NDArray[np.int64],
    day: NDArray[np.int32],
    amount: NDArray[np.float64],
    n: int,
    as_of_day: int,
    extra: dict[str, NDArray[np.float64]] | None = None,
    *,
    daily: _Daily | None = None,
) -> tuple[NDArray[np.bool_], NDArray[np.float64], NDArray[np.float64], tuple]:
    """Feature matrix as of ``as_of_day`` for customers 0..n-1 (rows for all; ``eligible``
    marks those who bought on or before the date). Also returns P(alive) (the baseline)."""
    log = daily if daily is not None else _Daily.of(
        np.asarray(customer, dtype=np.int64), np.asarray(day, dtype=np.int32),
        np.asarray(amount, dtype=np.float64), n)
    low = int(log.day.min()) - 1 if len(log.day) else 0
    past = log.day <= as_of_day
    days_n = log.count(past)
    eligible = days_n > 0
    # Rows are ordered by day within a customer: the first row is the first purchase, and
    # the past rows are the first days_n of the customer's rows.
    first = np.zeros(n, dtype=np.int64)
    last = np.zeros(n, dtype=np.int64)
    if len(log.starts):
        first[log.owner] = log.day[log.starts]
        has = days_n[log.owner] > 0
        last[log.owner[has]] = log.day[log.starts[has] + days_n[log.owner[has]] - 1]
    year = log.window(as_of_day - 365, as_of_day)
    f365, s365 = log.count(year), log.total(year)
    recent = log.window(as_of_day - 90, as_of_day)
    earlier = log.window(low, as_of_day - 90)
    f_recent = log.count(recent) / 90.0
    s_recent = log.total(recent) / 90.0
    with np.errstate(divide="ignore", invalid="ignore"):
        span_before = np.maximum((as_of_day - 90) - first, 1).astype(np.float64)
        f_before = log.count(earlier) / span_before
        s_before = log.total(earlier) / span_before
        recency = (as_of_day - last).astype(np.float64)
        tenure = (as_of_day - first).astype(np.float64)
        mean_gap = np.where(days_n > 1, (last - first) / np.maximum(days_n - 1, 1), tenure + 1)
        gap_ratio = recency / np.maximum(mean_gap, 1.0)
        f_trend = np.where(f_before > 0, f_recent / f_before, np.nan)
        s_trend = np.where(s_before > 0, s_recent / s_before, np.nan)
    pa = np.full(n, np.nan)
    # The weekly calibration summary as of the date (engine/summary.py's conventions).
    x = days_n[eligible] - 1
    if eligible.sum() >= 10 and int((x > 0).sum()) >= 5:
        t_x = (last[eligible] - first[eligible]) / 7.0
        big_t = (as_of_day - first[eligible]) / 7.0
        fit = fit_bgnbd(x, t_x, big_t)
        pa[eligible] = p_alive(fit, x, t_x, big_t)
    cols = [
        recency,
        np.log1p(f365),
        np.log1p(np.maximum(s365, 0)),
        tenure,
        mean_gap,
        np.log1p(gap_ratio),
        np.log1p(np.nan_to_num(f_trend, nan=1.0)),
        np.log1p(np.nan_to_num(s_trend, nan=1.0)),
        pa,
    ]
    names = list(FEATURES)
    for key, values in (extra or {}).items():
        arr = np.asarray(values, dtype=np.float64)
        if arr.shape != (n,):
            raise InputError(f"extra feature {key!r} needs one value per customer", column=key)
        cols.append(arr)
        names.append(key)
    return eligible, np.column_stack(cols), pa, tuple(names)


def _labels(log: _Daily, start: int, end: int) -> NDArray[np.bool_]:
    """True for customers with no purchase in (start, end]."""
    return log.count(log.window(start, end)) == 0


def _scores(y: NDArray[np.bool_], p: NDArray[np.float64]) -> Scores:
    from sklearn.metrics import brier_score_loss, roc_auc_score

    p = np.clip(np.nan_to_num(p, nan=float(np.nanmean(p)) if np.isfinite(p).any() else 0.5), 0, 1)
    auc = float(roc_auc_score(y, p)) if 0 < y.sum() < len(y) else float("nan")
    k = max(1, len(p) // 10)
    top = np.argsort(-p, kind="stable")[:k]
    bins = np.minimum((p * 10).astype(int), 9)
    calib = [
        (float(p[bins == b].mean()), float(y[bins == b].mean()), int((bins == b).sum()))
        for b in range(10)
        if (bins == b).any()
    ]
    return Scores(
        auc=auc,
        top_decile_precision=float(y[top].mean()),
        brier=float(brier_score_loss(y, p)),
        calibration=calib,
    )


def _fit(x: NDArray[np.float64], y: NDArray[np.bool_]):
    from sklearn.linear_model import LogisticRegression

    if len(y) > MAX_TRAIN_ROWS:
        keep = np.sort(np.random.default_rng(len(y)).choice(len(y), MAX_TRAIN_ROWS,
                                                            replace=False))
        x, y = x[keep], y[keep]
    med = np.nanmedian(x, axis=0)
    med = np.where(np.isfinite(med), med, 0.0)
    x = np.where(np.isfinite(x), x, med)
    mean, scale = x.mean(axis=0), x.std(axis=0)
    scale = np.where(scale > 0, scale, 1.0)
    clf = LogisticRegression(C=1.0, max_iter=500)
    clf.fit((x - mean) / scale, y)
    return clf, med, mean, scale


def _predict(clf, med, mean, scale, x):
    x = np.where(np.isfinite(x), x, med)
    z = (x - mean) / scale
    return clf.predict_proba(z)[:, 1], z


def churn_model(
    customer: ArrayLike,
    day: ArrayLike,
    amount: ArrayLike,
    *,
    as_of: object,
    horizon_days: int = 90,
    n_customers: int | None = None,
    extra: dict[str, ArrayLike] | None = None,
    top_reasons: int = 3,
) -> ChurnModel:
    """Train, evaluate against the baseline and score every customer as of ``as_of``.

    ``extra`` maps feature names to per-customer arrays (interactions, complaints,
    satisfaction) known as of the as-of date; they are used for all three dates.
    """
    codes = np.asarray(customer, dtype=np.int64)
    days = np.asarray(day, dtype=np.int32)
    amounts = np.asarray(amount, dtype=np.float64)
    if not (len(codes) == len(days) == len(amounts)):
        raise InputError("customer, day and amount must have the same length")
    if horizon_days < 7:
        raise InputError("the horizon must be at least 7 days", column="horizon_days")
    n = int(n_customers if n_customers is not None else (codes.max() + 1 if len(codes) else 0))
    d = day_number(as_of)
    t0, t1 = d - 2 * horizon_days, d - horizon_days
    ex = {k: np.asarray(v, dtype=np.float64) for k, v in (extra or {}).items()}
    log = _Daily.of(codes, days, amounts, n)
    if int(np.count_nonzero(log.count(log.day <= t0))) < 20:
        raise InputError("not enough history before the training period to learn churn "
                         f"(need at least 20 customers buying {2 * horizon_days} days or more "
                         "before the as-of date)")
    e0, x0, _, names = features(codes, days, amounts, n, t0, ex, daily=log)
    y0 = _labels(log, t0, t1)
    e1, x1, pa1, _ = features(codes, days, amounts, n, t1, ex, daily=log)
    y1 = _labels(log, t1, d)
    if e0.sum() < 20 or not (0 < y0[e0].sum() < e0.sum()):
        raise InputError(
            "not enough history before the training period to learn churn "
            f"(need purchases before {t0} days and both outcomes)"
        )
    clf, med, mean, scale = _fit(x0[e0], y0[e0])
    p1, _ = _predict(clf, med, mean, scale, x1[e1])
    model_scores = _scores(y1[e1], p1)
    baseline_scores = _scores(y1[e1], 1.0 - pa1[e1])
    # Refit on the later period for today's predictions.
    if 0 < y1[e1].sum() < e1.sum():
        clf, med, mean, scale = _fit(x1[e1], y1[e1])
    e2, x2, pa2, _ = features(codes, days, amounts, n, d, ex, daily=log)
    idx = np.flatnonzero(e2)
    p2, z2 = _predict(clf, med, mean, scale, x2[idx])
    contrib = z2 * clf.coef_[0]
    k = min(top_reasons, contrib.shape[1])
    # The k largest contributions per row, strongest first; those of 0.1 or less dropped.
    order = np.argsort(-contrib, axis=1, kind="stable")[:, :k]
    strong = np.take_along_axis(contrib, order, axis=1) > 0.1
    reason_index = np.where(strong, order, -1).astype(np.int16)
    return ChurnModel(
        feature_names=names,
        coef=clf.coef_[0].copy(),
        intercept=float(clf.intercept_[0]),
        mean=mean,
        scale=scale,
        model=model_scores,
        baseline=baseline_scores,
        n_train=int(e0.sum()),
        n_test=int(e1.sum()),
        churn_rate_test=float(y1[e1].mean()),
        customer=idx.astype(np.int64),
        probability=p2,
        baseline_probability=1.0 - pa2[idx],
        reason_index=reason_index,
        reason_texts=tuple(REASONS.get(name, name) for name in names),
    )
