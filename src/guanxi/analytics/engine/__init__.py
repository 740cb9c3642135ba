"""Guanxi's customer-value analytics engine: pure functions over columnar arrays.

The engine imports no Django. It reads transaction logs (:mod:`.io`), computes RFM scores and
classes (:mod:`.rfm`), ABC classes, the Pareto curve and value tiers (:mod:`.abc`), churn rates
(:mod:`.churn`), the calibration summary (:mod:`.summary`), fits BG/NBD (:mod:`.bgnbd`) and
Gamma-Gamma (:mod:`.gammagamma`) models, values customers (:mod:`.clv`) and derives lifecycle
stages (:mod:`.lifecycle`). Results are frozen dataclasses of numpy arrays; fits serialise to
JSON-ready dicts. See docs/analytics.md for the conventions and formulas.
"""

from guanxi.analytics.engine.abc import (
    ABC_SOURCE_RANGES,
    VALUE_TIERS,
    AbcResult,
    ParetoCurve,
    TierResult,
    abc_analysis,
    pareto_curve,
    value_tiers,
)
from guanxi.analytics.engine.bgnbd import (
    BgNbdFit,
    conditional_expected_purchases,
    expected_purchases,
    fit_bgnbd,
    p_alive,
)
from guanxi.analytics.engine.churn import ChurnRates, churn_rates
from guanxi.analytics.engine.clv import ClvResult, bgnbd_gamma_gamma_clv, discounted_value
from guanxi.analytics.engine.errors import InputError, SnapshotError
from guanxi.analytics.engine.gammagamma import (
    GammaGammaFit,
    conditional_expected_spend,
    fit_gamma_gamma,
)
from guanxi.analytics.engine.io import Transactions, read_transactions
from guanxi.analytics.engine.lifecycle import STAGES, Lifecycle, LifecycleSettings, lifecycle_stages
from guanxi.analytics.engine.rfm import RFM_CLASSES, RfmResult, RfmThresholds, rfm_analysis
from guanxi.analytics.engine.summary import ClvSummary, clv_summary
from guanxi.analytics.engine.version import ENGINE_VERSION

__all__ = [
    "ABC_SOURCE_RANGES",
    "ENGINE_VERSION",
    "RFM_CLASSES",
    "STAGES",
    "VALUE_TIERS",
    "AbcResult",
    "BgNbdFit",
    "ChurnRates",
    "ClvResult",
    "ClvSummary",
    "GammaGammaFit",
    "InputError",
    "Lifecycle",
    "LifecycleSettings",
    "ParetoCurve",
    "RfmResult",
    "RfmThresholds",
    "SnapshotError",
    "TierResult",
    "Transactions",
    "abc_analysis",
    "bgnbd_gamma_gamma_clv",
    "churn_rates",
    "clv_summary",
    "conditional_expected_purchases",
    "conditional_expected_spend",
    "discounted_value",
    "expected_purchases",
    "fit_bgnbd",
    "fit_gamma_gamma",
    "lifecycle_stages",
    "p_alive",
    "pareto_curve",
    "read_transactions",
    "rfm_analysis",
    "value_tiers",
]
