"""Shared pieces of the maximum-likelihood fits: input checks, row condensing, the optimiser.

The optimiser is L-BFGS-B (scipy.optimize) on log-parameters with an analytic gradient. On large
inputs it first fits an evenly spaced subset of the rows, takes the Hessian there (central
differences of the analytic gradient) and fits all rows in coordinates whitened by that Hessian,
starting from the subset's optimum: the full data then needs a handful of passes instead of a
few dozen, and the answer is still the optimum on all rows (the same stopping rules apply).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import polars as pl
from numpy.typing import ArrayLike, NDArray
from scipy.optimize import minimize
from threadpoolctl import threadpool_limits

from guanxi.analytics.engine.errors import InputError

Objective = Callable[[NDArray[np.float64]], tuple[float, NDArray[np.float64]]]

# Log-parameters are kept within these bounds so that exp() never overflows.
LOG_BOUND = 30.0
# A fit whose largest gradient component (of the mean negative log-likelihood with respect to the
# log-parameters) is below this is converged even if the line search stopped on rounding noise.
GRADIENT_TOLERANCE = 1e-6
#: Above this many rows a fit starts from the optimum on about WARM_START_SAMPLE of them.
WARM_START_ROWS = 200_000
WARM_START_SAMPLE = 50_000
# Stopping rules on the mean negative log-likelihood: a gradient of 1e-9 per log-parameter is
# about the rounding floor of a sum over a million rows, and far below any sampling error.
_OPTIONS = {"maxiter": 2000, "ftol": 1e-15, "gtol": 1e-9, "maxcor": 20}
_ROUGH_OPTIONS = {**_OPTIONS, "gtol": 1e-7}


def as_column(values: ArrayLike, column: str) -> NDArray[np.float64]:
    """A one-dimensional float64 array with only finite values."""
    try:
        arr = np.asarray(values, dtype=np.float64)
    except (TypeError, ValueError):
        raise InputError("must hold numbers", column=column) from None
    if arr.ndim == 0:
        arr = arr.reshape(1)
    if arr.ndim != 1:
        raise InputError(f"must be one-dimensional, got shape {arr.shape}", column=column)
    finite = np.isfinite(arr)
    if not finite.all():
        index = int(np.argmin(finite))
        raise InputError(
            f"{float(arr[index])!r} is not a finite number", column=column, row=index + 1
        )
    return arr


def fail_first(
    mask: NDArray[np.bool_], column: str, problem: str, values: NDArray[np.float64] | None = None
) -> None:
    """Raise naming the first row where ``mask`` is true."""
    if mask.any():
        index = int(np.argmax(mask))
        got = "" if values is None else f" (got {float(values[index])!r})"
        raise InputError(problem + got, column=column, row=index + 1)


def same_length(**columns: NDArray[np.float64]) -> int:
    lengths = {name: len(arr) for name, arr in columns.items()}
    if len(set(lengths.values())) != 1:
        listing = ", ".join(f"{k} {v}" for k, v in lengths.items())
        raise InputError(f"columns differ in length: {listing}")
    n = next(iter(lengths.values()))
    if n == 0:
        raise InputError("no rows to fit")
    return n


def check_weights(weights: ArrayLike | None, n: int) -> NDArray[np.float64]:
    if weights is None:
        return np.ones(n, dtype=np.float64)
    w = as_column(weights, "weights")
    if len(w) != n:
        raise InputError(f"has {len(w)} values, expected {n}", column="weights")
    fail_first(w < 0, "weights", "must be >= 0", w)
    if not w.sum() > 0:
        raise InputError("must not all be zero", column="weights")
    return w


def factorize(
    values: NDArray[np.generic], *, integral: bool = False
) -> tuple[NDArray[np.generic], NDArray[np.int64]]:
    """Sorted unique values and, per element, the index of its value.

    Integers (or, with ``integral``, floats known to hold whole numbers) within a range of a few
    times their count are coded in linear time through a presence table; others by a rank.
    """
    if len(values) == 0:
        return values[:0], np.zeros(0, dtype=np.int64)
    if integral or np.issubdtype(values.dtype, np.integer):
        low, high = values.min(), values.max()
        if high - low <= 4 * len(values) + 1024:
            shifted = (values - low).astype(np.int64)
            present = np.zeros(int(high - low) + 1, dtype=bool)
            present[shifted] = True
            remap = np.cumsum(present, dtype=np.int64) - 1
            levels = (np.flatnonzero(present) + low).astype(values.dtype)
            return levels, remap[shifted]
    codes = pl.Series(values).rank("dense").to_numpy().astype(np.int64) - 1
    unique = np.empty(int(codes.max()) + 1, dtype=values.dtype)
    unique[codes] = values
    return unique, codes


@dataclass(frozen=True)
class Factor:
    """A column as sorted distinct values and one index into them per row."""

    levels: NDArray[np.float64]
    codes: NDArray[np.int64]

    @property
    def values(self) -> NDArray[np.float64]:
        return self.levels[self.codes]

    def take(self, rows: slice | NDArray[np.int64]) -> Factor:
        return Factor(self.levels, self.codes[rows])


def condense(
    columns: list[NDArray[np.float64]],
    weights: NDArray[np.float64],
    *,
    integral: tuple[bool, ...] = (),
) -> tuple[list[Factor], NDArray[np.float64]]:
    """Merge identical rows, summing their weights; rows of zero weight are dropped.

    Returns each column factorised over the distinct rows, which come out sorted by the columns
    (the first column first), so a fit on them does not depend on the input order. ``integral``
    flags the columns known to hold whole numbers.
    """
    keep = weights > 0
    if not keep.all():
        columns = [c[keep] for c in columns]
        weights = weights[keep]
    flags = list(integral) + [False] * (len(columns) - len(integral))
    factors = [Factor(*factorize(c, integral=f)) for c, f in zip(columns, flags, strict=True)]
    sizes = [len(f.levels) for f in factors]
    if float(np.prod(np.asarray(sizes, dtype=np.float64))) >= 2.0**62:
        return _condense_by_groups(columns, weights)
    key = np.zeros(len(weights), dtype=np.int64)
    for factor, size in zip(factors, sizes, strict=True):
        key *= size
        key += factor.codes
    _, row_codes = factorize(key)
    distinct = int(row_codes.max()) + 1
    first = np.empty(distinct, dtype=np.int64)
    first[row_codes] = np.arange(len(key), dtype=np.int64)
    summed = np.bincount(row_codes, weights=weights, minlength=distinct)
    return [f.take(first) for f in factors], summed


def _condense_by_groups(
    columns: list[NDArray[np.float64]], weights: NDArray[np.float64]
) -> tuple[list[Factor], NDArray[np.float64]]:
    names = [f"c{i}" for i in range(len(columns))]
    frame = pl.DataFrame({**dict(zip(names, columns, strict=True)), "w": weights})
    grouped = frame.group_by(names).agg(pl.col("w").sum()).sort(names)
    factors = [Factor(*factorize(grouped[name].to_numpy())) for name in names]
    return factors, grouped["w"].to_numpy()


@dataclass(frozen=True)
class Optimum:
    theta: NDArray[np.float64]
    objective: float
    converged: bool
    iterations: int


def _is_converged(
    theta: NDArray[np.float64], value: float, gradient: NDArray[np.float64], success: bool
) -> bool:
    if not (np.all(np.isfinite(theta)) and np.isfinite(value)):
        return False
    at_bound = np.abs(theta) >= LOG_BOUND - 1e-9
    return success or bool(np.all(np.abs(gradient[~at_bound]) <= GRADIENT_TOLERANCE))


def minimise(objective: Objective, start: NDArray[np.float64], *, rough: bool = False) -> Optimum:
    """L-BFGS-B on log-parameters with the analytic gradient (looser when ``rough``)."""
    bounds = [(-LOG_BOUND, LOG_BOUND)] * len(start)
    result = minimize(
        objective,
        start,
        jac=True,
        method="L-BFGS-B",
        bounds=bounds,
        options=_ROUGH_OPTIONS if rough else _OPTIONS,
    )
    theta = np.asarray(result.x, dtype=np.float64)
    converged = _is_converged(
        theta, float(result.fun), np.asarray(result.jac), bool(result.success)
    )
    return Optimum(theta, float(result.fun), converged, int(result.nit))


def _hessian(
    objective: Objective, theta: NDArray[np.float64], step: float = 1e-4
) -> NDArray[np.float64]:
    """Central differences of the analytic gradient, symmetrised."""
    k = len(theta)
    hessian = np.empty((k, k))
    for i in range(k):
        shift = np.zeros(k)
        shift[i] = step
        hessian[:, i] = (objective(theta + shift)[1] - objective(theta - shift)[1]) / (2 * step)
    return (hessian + hessian.T) / 2


def _minimise_whitened(
    objective: Objective, start: NDArray[np.float64], hessian: NDArray[np.float64]
) -> Optimum | None:
    """Minimise in u, theta = start + L^-T u with hessian = L L^T; None if that fails."""
    try:
        lower = np.linalg.cholesky(hessian)
    except np.linalg.LinAlgError:
        return None
    back = np.linalg.inv(lower).T  # d theta / d u

    def in_u(u: NDArray[np.float64]) -> tuple[float, NDArray[np.float64]]:
        theta = start + back @ u
        if np.any(np.abs(theta) > LOG_BOUND):
            return float("inf"), np.zeros_like(u)
        value, gradient = objective(theta)
        return value, back.T @ gradient

    result = minimize(in_u, np.zeros(len(start)), jac=True, method="L-BFGS-B", options=_OPTIONS)
    theta = start + back @ np.asarray(result.x, dtype=np.float64)
    gradient = lower @ np.asarray(result.jac)  # back to d/d theta
    if not _is_converged(theta, float(result.fun), gradient, bool(result.success)):
        return None
    return Optimum(theta, float(result.fun), True, int(result.nit))


def minimise_with_warm_start(
    objective_for: Callable[[slice], Objective], n_rows: int, start: NDArray[np.float64]
) -> Optimum:
    """:func:`minimise` on all rows; on many rows, warm-started and whitened from a subset.

    BLAS runs on one thread meanwhile: the likelihoods' dot products are bound by memory, and a
    BLAS helper thread that has to wait for a busy core makes each one take milliseconds.
    """
    with threadpool_limits(limits=1, user_api="blas"):
        return _minimise_with_warm_start(objective_for, n_rows, start)


def _minimise_with_warm_start(
    objective_for: Callable[[slice], Objective], n_rows: int, start: NDArray[np.float64]
) -> Optimum:
    if n_rows > WARM_START_ROWS:
        step = n_rows // WARM_START_SAMPLE
        subset = objective_for(slice(None, None, step))
        rough = minimise(subset, start, rough=True)
        if rough.converged:
            whitened = _minimise_whitened(
                objective_for(slice(None)), rough.theta, _hessian(subset, rough.theta)
            )
            if whitened is not None:
                return whitened
            start = rough.theta
    return minimise(objective_for(slice(None)), start)
