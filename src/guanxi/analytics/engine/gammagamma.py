"""The Gamma-Gamma model of spend per purchase.

Fader, P. S. and Hardie, B. G. S. (2013), "The Gamma-Gamma Model of Monetary Value" (note), and
Fader, Hardie & Lee (2005), "RFM and CLV: Using Iso-Value Curves for Customer Base Analysis",
Journal of Marketing Research 42(4), 415-430.

A customer's purchase amounts are Gamma(shape p, rate nu), nu ~ Gamma(shape q, rate v) over
customers. For a customer with x repeat purchases of mean amount m (the first purchase excluded,
see :mod:`guanxi.analytics.engine.summary`), the log-likelihood (Fader & Hardie 2013, eq. 1a) is

    ln L = ln G(p x + q) - ln G(p x) - ln G(q) + q ln v + (p x - 1) ln m + p x ln x
           - (p x + q) ln(v + x m),

maximised over log-parameters with L-BFGS-B and the analytic gradient, on the customers with
x > 0. Amounts are rescaled by their weighted mean during the fit (v scales back), so the fit is
invariant to the currency unit; the gamma-function terms are evaluated once per distinct x.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy.special import digamma, gammaln

from guanxi.analytics.engine._fitting import (
    as_column,
    check_weights,
    factorize,
    fail_first,
    minimise_with_warm_start,
    same_length,
)
from guanxi.analytics.engine.errors import SnapshotError
from guanxi.analytics.engine.version import ENGINE_VERSION

MODEL_NAME = "gamma_gamma"


@dataclass(frozen=True)
class GammaGammaFit:
    """Maximum-likelihood Gamma-Gamma parameters; ``n`` is the number of customers fitted."""

    p: float
    q: float
    v: float
    log_likelihood: float
    n: float
    converged: bool
    iterations: int = 0

    @property
    def population_mean_spend(self) -> float:
        """E[spend per purchase] over customers, p v / (q - 1); infinite when q <= 1."""
        return self.p * self.v / (self.q - 1.0) if self.q > 1.0 else float("inf")

    def to_dict(self, *, data_window: tuple[str, str] | None = None) -> dict[str, Any]:
        """A JSON-ready record: model name, engine version, parameters, log-likelihood, n."""
        record: dict[str, Any] = {
            "model": MODEL_NAME,
            "engine_version": ENGINE_VERSION,
            "params": {"p": self.p, "q": self.q, "v": self.v},
            "log_likelihood": self.log_likelihood,
            "n": self.n,
            "converged": self.converged,
            "iterations": self.iterations,
        }
        if data_window is not None:
            record["data_window"] = {"start": data_window[0], "end": data_window[1]}
        return record

    @classmethod
    def from_dict(cls, record: dict[str, Any]) -> GammaGammaFit:
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
            p=float(params["p"]),
            q=float(params["q"]),
            v=float(params["v"]),
            log_likelihood=float(record["log_likelihood"]),
            n=float(record["n"]),
            converged=bool(record.get("converged", True)),
            iterations=int(record.get("iterations", 0)),
        )


def check_inputs(
    frequency: ArrayLike, monetary: ArrayLike, *, repeat_only: bool = True
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Check (x, m) rows: to fit, whole x >= 1 and m > 0; to predict, x >= 0 and m >= 0."""
    x = as_column(frequency, "frequency")
    m = as_column(monetary, "monetary")
    same_length(frequency=x, monetary=m)
    if repeat_only:
        fail_first(
            (x < 1) | (np.floor(x) != x),
            "frequency",
            "must be a whole number >= 1 (fit on customers with repeat purchases)",
            x,
        )
        fail_first(m <= 0, "monetary", "spend must be > 0", m)
    else:
        fail_first((x < 0) | (np.floor(x) != x), "frequency", "must be a whole number >= 0", x)
        fail_first((x > 0) & (m < 0), "monetary", "spend must be >= 0 when frequency > 0", m)
    return x, m


class _Likelihood:
    """The mean negative log-likelihood and its gradient over log-parameters, on weighted rows.

    Gamma-function terms are computed once per distinct x; the per-row work is one logarithm.
    """

    def __init__(
        self, x: NDArray[np.float64], m: NDArray[np.float64], w: NDArray[np.float64]
    ) -> None:
        self.total = float(w.sum())
        self.xs, ix = factorize(x, integral=True)
        self.w_x = np.bincount(ix, weights=w, minlength=len(self.xs))
        self.wx_x = self.w_x * self.xs
        self.w = w
        self.wx = w * x
        log_m = np.log(m)
        # Parameter-free sums: sum w x ln m, sum w ln m, sum w x ln x.
        self.wx_log_m = float(self.wx @ log_m)
        self.w_log_m = float(w @ log_m)
        self.wx_log_x = float(self.wx @ np.log(x))
        self.xm = x * m
        self._log = np.empty(len(x))
        self._inv = np.empty(len(x))

    def __call__(self, theta: NDArray[np.float64]) -> tuple[float, NDArray[np.float64]]:
        p, q, v = np.exp(theta)
        xs = self.xs
        px = p * xs
        log_vxm, inv_vxm = self._log, self._inv
        np.add(self.xm, v, out=log_vxm)
        np.reciprocal(log_vxm, out=inv_vxm)
        np.log(log_vxm, out=log_vxm)  # ln(v + x m)
        s_wx_log = float(self.wx @ log_vxm)
        s_w_log = float(self.w @ log_vxm)
        s_wx_inv = float(self.wx @ inv_vxm)
        s_w_inv = float(self.w @ inv_vxm)

        ll = float(self.w_x @ (gammaln(px + q) - gammaln(px))) - self.total * gammaln(q)
        ll += self.total * q * np.log(v) + p * self.wx_log_m - self.w_log_m + p * self.wx_log_x
        ll -= p * s_wx_log + q * s_w_log  # sum w (p x + q) ln(v + x m)

        psi_pxq = digamma(px + q)
        g_p = float(self.wx_x @ (psi_pxq - digamma(px))) + self.wx_log_m + self.wx_log_x
        g_p -= s_wx_log
        g_q = float(self.w_x @ psi_pxq) - self.total * digamma(q) + self.total * np.log(v)
        g_q -= s_w_log
        g_v = self.total * q / v - (p * s_wx_inv + q * s_w_inv)
        grad = np.array([g_p * p, g_q * q, g_v * v])
        return -ll / self.total, -grad / self.total


def fit_gamma_gamma(
    frequency: ArrayLike, monetary: ArrayLike, weights: ArrayLike | None = None
) -> GammaGammaFit:
    """Fit Gamma-Gamma by maximum likelihood (Fader & Hardie 2013, eq. 1a).

    ``frequency`` is x >= 1 (repeat purchases), ``monetary`` the mean amount of those repeat
    purchases (> 0); ``weights`` count how many customers each row stands for.
    """
    x, m = check_inputs(frequency, monetary)
    w = check_weights(weights, len(x))
    keep = w > 0
    if not keep.all():
        x, m, w = x[keep], m[keep], w[keep]
    scale = float((w @ m) / w.sum())
    m_scaled = m / scale
    optimum = minimise_with_warm_start(
        lambda rows: _Likelihood(x[rows], m_scaled[rows], w[rows]), len(x), np.zeros(3)
    )
    p, q, v_scaled = (float(val) for val in np.exp(optimum.theta))
    total = float(w.sum())
    # Scaling amounts by 1/s multiplies each customer's density of m by s.
    log_likelihood = -optimum.objective * total - np.log(scale) * total
    return GammaGammaFit(
        p=p,
        q=q,
        v=v_scaled * scale,
        log_likelihood=float(log_likelihood),
        n=total,
        converged=optimum.converged,
        iterations=optimum.iterations,
    )


def log_likelihood(
    fit: GammaGammaFit, frequency: ArrayLike, monetary: ArrayLike
) -> NDArray[np.float64]:
    """Each customer's log-likelihood under the fit (Fader & Hardie 2013, eq. 1a)."""
    x, m = check_inputs(frequency, monetary)
    p, q, v = fit.p, fit.q, fit.v
    return (
        gammaln(p * x + q)
        - gammaln(p * x)
        - gammaln(q)
        + q * np.log(v)
        + (p * x - 1.0) * np.log(m)
        + p * x * np.log(x)
        - (p * x + q) * np.log(v + x * m)
    )


def conditional_expected_spend(
    fit: GammaGammaFit, frequency: ArrayLike, mean: ArrayLike
) -> NDArray[np.float64]:
    """E[spend per purchase | x, m] = p (v + x m) / (p x + q - 1) (Fader & Hardie 2013, eq. 5).

    A weighted mean of the population mean p v / (q - 1) and the customer's mean m, with weight
    p x / (p x + q - 1) on m; for x = 0 it is the population mean. NaN where p x + q <= 1 (the
    population mean is not finite when q <= 1). The model assumes positive amounts; a mean of 0
    (free items) is accepted and pulls the prediction towards 0.
    """
    x, m = check_inputs(frequency, mean, repeat_only=False)
    m = np.where(x > 0, m, 0.0)
    denominator = fit.p * x + fit.q - 1.0
    with np.errstate(divide="ignore", invalid="ignore"):
        out = fit.p * (fit.v + x * m) / denominator
    return np.where(denominator > 0, out, np.nan)
