"""The BG/NBD model of repeat purchasing (Fader, Hardie & Lee 2005).

Fader, P. S., Hardie, B. G. S. and Lee, K. L. (2005), "'Counting Your Customers' the Easy Way:
An Alternative to the Pareto/NBD Model", Marketing Science 24(2), 275-284 ("FHL 2005"); the
log-likelihood as in that paper's likelihood function and in Hardie's note "Implementing the
BG/NBD Model for Customer Base Analysis in Excel" (2005).

While active, a customer buys at the points of a Poisson process of rate lambda,
lambda ~ Gamma(shape r, rate alpha); after each repeat purchase they become inactive with
probability p, p ~ Beta(a, b). A customer is summarised by x (repeat purchases), t_x (time of the
last purchase, from the first) and T (time from the first purchase to the end of calibration).

Fitting maximises the log-likelihood (FHL 2005, the likelihood function)

    ln L = ln G(r + x) - ln G(r) + r ln alpha + ln G(a + b) + ln G(b + x) - ln G(b)
           - ln G(a + b + x) - (r + x) ln(alpha + T) + ln(1 + d_x e^D),
    D = ln a - ln(b + x - 1) + (r + x) [ln(alpha + T) - ln(alpha + t_x)],

(G the gamma function, d_x = 1 if x > 0 else 0), the last term as a log-sum-exp, over
log-parameters with L-BFGS-B and the analytic gradient. Identical rows are condensed into weights
first, the gamma-function terms are evaluated once per distinct x, and time is rescaled so that
the largest T is 10 (then alpha is scaled back), so the fit is invariant to the time unit: r, a,
b do not change and alpha scales with the unit.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy.special import digamma, gammaln, hyp2f1

from guanxi.analytics.engine._fitting import (
    Factor,
    as_column,
    check_weights,
    condense,
    factorize,
    fail_first,
    minimise_with_warm_start,
    same_length,
)
from guanxi.analytics.engine.errors import InputError, SnapshotError
from guanxi.analytics.engine.version import ENGINE_VERSION

MODEL_NAME = "bgnbd"
_TIME_SCALE_TARGET = 10.0


@dataclass(frozen=True)
class BgNbdFit:
    """Maximum-likelihood BG/NBD parameters; ``n`` is the number (total weight) of customers."""

    r: float
    alpha: float
    a: float
    b: float
    log_likelihood: float
    n: float
    converged: bool
    iterations: int = 0

    def to_dict(self, *, data_window: tuple[str, str] | None = None) -> dict[str, Any]:
        """A JSON-ready record: model name, engine version, parameters, log-likelihood, n."""
        record: dict[str, Any] = {
            "model": MODEL_NAME,
            "engine_version": ENGINE_VERSION,
            "params": {"r": self.r, "alpha": self.alpha, "a": self.a, "b": self.b},
            "log_likelihood": self.log_likelihood,
            "n": self.n,
            "converged": self.converged,
            "iterations": self.iterations,
        }
        if data_window is not None:
            record["data_window"] = {"start": data_window[0], "end": data_window[1]}
        return record

    @classmethod
    def from_dict(cls, record: dict[str, Any]) -> BgNbdFit:
        """Load a record made by :meth:`to_dict`; another model or engine version is refused."""
        if record.get("model") != MODEL_NAME:
            raise SnapshotError(f"not a {MODEL_NAME} fit: model {record.get('model')!r}")
        if record.get("engine_version") != ENGINE_VERSION:
            raise SnapshotError(
                f"fit made by engine {record.get('engine_version')!r}, this is {ENGINE_VERSION}: "
                "refit"
            )
        params = record["params"]
        return cls(
            r=float(params["r"]),
            alpha=float(params["alpha"]),
            a=float(params["a"]),
            b=float(params["b"]),
            log_likelihood=float(record["log_likelihood"]),
            n=float(record["n"]),
            converged=bool(record.get("converged", True)),
            iterations=int(record.get("iterations", 0)),
        )


def check_inputs(
    frequency: ArrayLike, recency: ArrayLike, T: ArrayLike
) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.float64]]:
    """Check (x, t_x, T) rows: whole x >= 0, 0 <= t_x <= T, t_x = 0 when x = 0.

    Raises :class:`InputError` naming the column, the 1-based row and the rule.
    """
    x = as_column(frequency, "frequency")
    t_x = as_column(recency, "recency")
    big_t = as_column(T, "T")
    same_length(frequency=x, recency=t_x, T=big_t)
    fail_first((x < 0) | (np.floor(x) != x), "frequency", "must be a whole number >= 0", x)
    fail_first(big_t < 0, "T", "must be >= 0", big_t)
    fail_first(t_x < 0, "recency", "must be >= 0", t_x)
    fail_first(t_x > big_t, "recency", "must be <= T", t_x)
    fail_first((x == 0) & (t_x != 0), "recency", "must be 0 when frequency is 0", t_x)
    return x, t_x, big_t


class _Likelihood:
    """The mean negative log-likelihood and its gradient over log-parameters, on weighted rows.

    Terms that depend on x only are computed once per distinct x, terms in T once per distinct T,
    and the log-sum-exp term of the customers with x > 0 once per row from values gathered per
    distinct (t_x, T) pair, into buffers allocated once.
    """

    def __init__(self, x: Factor, t_x: Factor, big_t: Factor, w: NDArray[np.float64]) -> None:
        self.total = float(w.sum())
        self.xs, ix = x.levels, x.codes
        x_rows = x.values
        self.w_x = np.bincount(ix, weights=w, minlength=len(self.xs))
        self.t_unique, i_t = big_t.levels, big_t.codes
        self.w_t = np.bincount(i_t, weights=w, minlength=len(self.t_unique))
        self.wx_t = np.bincount(i_t, weights=w * x_rows, minlength=len(self.t_unique))
        self.positive_xs = self.xs > 0
        positive = x_rows > 0
        self.tx_unique = t_x.levels
        pairs, self.pair_index = factorize(t_x.codes[positive] * len(self.t_unique) + i_t[positive])
        self.pair_tx = pairs // len(self.t_unique)
        self.pair_t = pairs % len(self.t_unique)
        self.ix_p = ix[positive]
        self.x_p = x_rows[positive]
        self.w_p = w[positive]
        # Rows sorted by x (as condensed rows are) sum per x over runs instead of a bincount.
        self.x_runs: NDArray[np.int64] | None = None
        if len(self.ix_p) and bool(np.all(self.ix_p[1:] >= self.ix_p[:-1])):
            self.x_runs = np.flatnonzero(np.diff(self.ix_p, prepend=-1))
        size = len(self.x_p)
        self._gap = np.empty(size)
        self._d = np.empty(size)
        self._rx = np.empty(size)
        self._e = np.empty(size)
        self._tmp = np.empty(size)

    def __call__(self, theta: NDArray[np.float64]) -> tuple[float, NDArray[np.float64]]:
        r, alpha, a, b = np.exp(theta)
        xs = self.xs
        per_x = (
            gammaln(r + xs)
            - gammaln(r)
            + gammaln(a + b)
            + gammaln(b + xs)
            - gammaln(b)
            - gammaln(a + b + xs)
        )
        log_t = np.log(alpha + self.t_unique)
        ll = float(self.w_x @ per_x) + self.total * r * np.log(alpha)
        ll -= float(r * (self.w_t @ log_t) + self.wx_t @ log_t)

        g_r = float(self.w_x @ (digamma(r + xs) - digamma(r))) + self.total * np.log(alpha)
        g_r -= float(self.w_t @ log_t)
        inv_t = 1.0 / (alpha + self.t_unique)
        g_alpha = self.total * r / alpha - float(r * (self.w_t @ inv_t) + self.wx_t @ inv_t)
        psi_ab = digamma(a + b)
        psi_abx = digamma(a + b + xs)
        g_a = float(self.w_x @ (psi_ab - psi_abx))
        g_b = float(self.w_x @ (psi_ab + digamma(b + xs) - digamma(b) - psi_abx))

        if len(self.x_p):
            log_a3 = np.zeros(len(xs))
            log_a3[self.positive_xs] = np.log(a) - np.log(b + xs[self.positive_xs] - 1.0)
            log_tx = np.log(alpha + self.tx_unique)
            inv_tx = 1.0 / (alpha + self.tx_unique)
            gap_pair = log_t[self.pair_t] - log_tx[self.pair_tx]
            dinv_pair = inv_t[self.pair_t] - inv_tx[self.pair_tx]
            gap, d, rx, e, tmp = self._gap, self._d, self._rx, self._e, self._tmp
            np.take(gap_pair, self.pair_index, out=gap)
            np.add(self.x_p, r, out=rx)
            np.take(log_a3, self.ix_p, out=d)
            np.multiply(rx, gap, out=tmp)
            d += tmp  # D
            np.abs(d, out=e)
            np.negative(e, out=e)
            np.exp(e, out=e)  # exp(-|D|)
            np.log1p(e, out=e)
            np.maximum(d, 0.0, out=tmp)
            e += tmp  # softplus(D) = ln(1 + e^D)
            ll += float(self.w_p @ e)
            np.subtract(d, e, out=tmp)
            np.exp(tmp, out=tmp)  # sigmoid(D) = e^(D - softplus(D))
            tmp *= self.w_p  # weighted
            g_r += float(tmp @ gap)
            g_a += float(tmp.sum()) / a
            if self.x_runs is not None:
                per_x_s = np.zeros(len(xs))
                per_x_s[self.ix_p[self.x_runs]] = np.add.reduceat(tmp, self.x_runs)
            else:
                per_x_s = np.bincount(self.ix_p, weights=tmp, minlength=len(xs))
            g_b -= float(per_x_s[self.positive_xs] @ (1.0 / (b + xs[self.positive_xs] - 1.0)))
            rx *= tmp
            per_pair = np.bincount(self.pair_index, weights=rx, minlength=len(gap_pair))
            g_alpha += float(per_pair @ dinv_pair)

        grad = np.array([g_r * r, g_alpha * alpha, g_a * a, g_b * b])
        return -ll / self.total, -grad / self.total


def fit_bgnbd(
    frequency: ArrayLike,
    recency: ArrayLike,
    T: ArrayLike,
    *,
    weights: ArrayLike | None = None,
) -> BgNbdFit:
    """Fit BG/NBD by maximum likelihood (FHL 2005; see the module docstring).

    ``frequency`` is x, ``recency`` t_x, ``T`` the customer's age, in one time unit; ``weights``
    count how many customers each row stands for (condensed rows).
    """
    x, t_x, big_t = check_inputs(frequency, recency, T)
    w = check_weights(weights, len(x))
    longest = float(big_t.max())
    if not longest > 0:
        raise InputError(
            "must not all be 0 (no customer has been observed for any time)", column="T"
        )
    scale = _TIME_SCALE_TARGET / longest
    (x_c, t_x_c, t_c), w_c = condense([x, t_x * scale, big_t * scale], w, integral=(True,))
    optimum = minimise_with_warm_start(
        lambda rows: _Likelihood(x_c.take(rows), t_x_c.take(rows), t_c.take(rows), w_c[rows]),
        len(w_c),
        np.zeros(4),
    )
    r, alpha_scaled, a, b = (float(v) for v in np.exp(optimum.theta))
    total = float(w_c.sum())
    # Scaling time by s multiplies each customer's likelihood by s^(-x) (the density of t_x).
    log_likelihood = -optimum.objective * total + np.log(scale) * float(x_c.values @ w_c)
    return BgNbdFit(
        r=r,
        alpha=alpha_scaled / scale,
        a=a,
        b=b,
        log_likelihood=float(log_likelihood),
        n=total,
        converged=optimum.converged,
        iterations=optimum.iterations,
    )


def log_likelihood(
    fit: BgNbdFit, frequency: ArrayLike, recency: ArrayLike, T: ArrayLike
) -> NDArray[np.float64]:
    """Each customer's log-likelihood under the fit (FHL 2005, the likelihood function)."""
    x, t_x, big_t = check_inputs(frequency, recency, T)
    r, alpha, a, b = fit.r, fit.alpha, fit.a, fit.b
    base = (
        gammaln(r + x)
        - gammaln(r)
        + r * np.log(alpha)
        + gammaln(a + b)
        + gammaln(b + x)
        - gammaln(b)
        - gammaln(a + b + x)
        - (r + x) * np.log(alpha + big_t)
    )
    return base + np.logaddexp(0.0, _log_odds_dead(fit, x, t_x, big_t))


def _log_odds_dead(
    fit: BgNbdFit, x: NDArray[np.float64], t_x: NDArray[np.float64], big_t: NDArray[np.float64]
) -> NDArray[np.float64]:
    """D = ln(a / (b + x - 1)) + (r + x) ln((alpha + T) / (alpha + t_x)); -inf when x = 0."""
    positive = x > 0
    safe_x = np.where(positive, x, 1.0)
    d = (
        np.log(fit.a)
        - np.log(fit.b + safe_x - 1.0)
        + (fit.r + safe_x) * (np.log(fit.alpha + big_t) - np.log(fit.alpha + t_x))
    )
    return np.where(positive, d, -np.inf)


def p_alive(
    fit: BgNbdFit, frequency: ArrayLike, recency: ArrayLike, T: ArrayLike
) -> NDArray[np.float64]:
    """P(active | x, t_x, T) = 1 / (1 + d_x a/(b+x-1) ((alpha+T)/(alpha+t_x))^(r+x)).

    Fader, Hardie & Lee (2008), "Computing P(alive) Using the BG/NBD Model" (note); 1 for a
    customer without repeat purchases.
    """
    x, t_x, big_t = check_inputs(frequency, recency, T)
    return np.exp(-np.logaddexp(0.0, _log_odds_dead(fit, x, t_x, big_t)))


def expected_purchases_if_alive(
    fit: BgNbdFit, t: NDArray[np.float64], x: NDArray[np.float64], big_t: NDArray[np.float64]
) -> NDArray[np.float64]:
    """Expected purchases in (T, T + t] of a customer known to be active (FHL 2005 eq. 10).

    (a+b+x-1)/(a-1) [1 - ((alpha+T)/(alpha+T+t))^(r+x) 2F1(r+x, b+x; a+b+x-1; z)]; unchecked
    float arrays of one shape.

    z = t/(alpha+T+t). Euler's transformation 2F1(A,B;C;z) = (1-z)^(C-A-B) 2F1(C-A,C-B;C;z)
    turns the bracket into 1 - (1-z)^(a-1) 2F1(a+b-1-r, a-1; a+b+x-1; z), whose parameters do not
    grow with x, so it stays finite for any frequency.

    When the fit has no dropout to speak of (a and b in the millions: a customer base where
    nobody has stopped), (1-z)^(a-1) underflows to 0 while that 2F1 overflows; there the
    untransformed form, whose 2F1 tends to (1 - z b/(a+b))^-(r+x), is finite and is used.
    """
    r, alpha, a, b = fit.r, fit.alpha, fit.a, fit.b
    z = t / (alpha + big_t + t)
    with np.errstate(invalid="ignore", over="ignore"):
        bracket = 1.0 - (1.0 - z) ** (a - 1.0) * hyp2f1(a + b - 1.0 - r, a - 1.0,
                                                         a + b + x - 1.0, z)
        bad = ~np.isfinite(bracket)
        if np.any(bad):
            zb, xb = np.broadcast_to(z, bracket.shape)[bad], np.broadcast_to(x, bracket.shape)[bad]
            bracket = np.array(bracket, dtype=np.float64, copy=True)
            bracket[bad] = 1.0 - (1.0 - zb) ** (r + xb) * hyp2f1(r + xb, b + xb,
                                                                  a + b + xb - 1.0, zb)
    return (a + b + x - 1.0) / (a - 1.0) * bracket


def expected_purchases(fit: BgNbdFit, t: ArrayLike) -> NDArray[np.float64]:
    """E[X(t)]: expected purchases of a new customer in (0, t] (FHL 2005 eq. 9).

    E[X(t)] = (a+b-1)/(a-1) [1 - (alpha/(alpha+t))^r 2F1(r, b; a+b-1; t/(alpha+t))].
    """
    times = as_column(t, "t")
    fail_first(times < 0, "t", "must be >= 0", times)
    return expected_purchases_if_alive(fit, times, np.zeros_like(times), np.zeros_like(times))


def conditional_expected_purchases(
    fit: BgNbdFit, t: ArrayLike | float, frequency: ArrayLike, recency: ArrayLike, T: ArrayLike
) -> NDArray[np.float64]:
    """E[Y(t) | x, t_x, T]: expected purchases in (T, T + t] (FHL 2005 eq. 10).

    = P(alive | x, t_x, T) x (a+b+x-1)/(a-1) [1 - ((alpha+T)/(alpha+T+t))^(r+x)
      2F1(r+x, b+x; a+b+x-1; t/(alpha+T+t))].
    """
    x, t_x, big_t = check_inputs(frequency, recency, T)
    times = (
        np.broadcast_to(as_column(t, "t"), x.shape) if np.ndim(t) else np.full(x.shape, float(t))
    )  # type: ignore[arg-type]
    fail_first(times < 0, "t", "must be >= 0", times)
    alive = np.exp(-np.logaddexp(0.0, _log_odds_dead(fit, x, t_x, big_t)))
    return alive * expected_purchases_if_alive(fit, times, x, big_t)
