"""``guanxi analytics ...``: the pure engine on a transactions file (no Django).

Sub-commands: ``rfm``, ``abc``, ``churn-rate``, ``lifecycle`` and ``clv``. Each reads a
transaction log (CSV, other delimited or whitespace-separated text, or Parquet), prints a summary
on stdout (plain text, or JSON with ``--format json``) and, where it applies, writes one row per
customer to ``--output``. Bad input ends with exit code 2 and one line on stderr naming the file,
the column, the line or row, and the problem. docs/analytics.md describes every flag, column and
key.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl

from guanxi.analytics.engine import abc as abc_engine
from guanxi.analytics.engine import bgnbd, clv, gammagamma, lifecycle, rfm, summary
from guanxi.analytics.engine.churn import churn_rates
from guanxi.analytics.engine.days import day_date, day_number
from guanxi.analytics.engine.errors import InputError
from guanxi.analytics.engine.io import Transactions, read_transactions
from guanxi.analytics.engine.version import ENGINE_VERSION

EXIT_OK = 0
EXIT_OUTPUT_ERROR = 1
EXIT_INPUT_ERROR = 2


class _UsageError(Exception):
    """A bad option value, reported like bad input."""


# --- shared options ------------------------------------------------------------------------------


def _add_input_options(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("input")
    g.add_argument(
        "--transactions",
        required=True,
        metavar="FILE",
        help="transaction log: CSV or other delimited text, or Parquet (.parquet)",
    )
    g.add_argument(
        "--customer-column",
        default="customer_id",
        metavar="C",
        help="customer identifier column (default: customer_id)",
    )
    g.add_argument(
        "--date-column", default="date", metavar="D", help="purchase date column (default: date)"
    )
    g.add_argument(
        "--amount-column", default="amount", metavar="A", help="amount column (default: amount)"
    )
    g.add_argument(
        "--separator",
        default=",",
        metavar="SEP",
        help="text field separator: one character, or comma, tab, semicolon, pipe, "
        "whitespace (default: ,)",
    )
    g.add_argument(
        "--no-header",
        action="store_true",
        help="the first line of a text file is data, not column names",
    )
    g.add_argument(
        "--columns",
        default=None,
        metavar="NAMES",
        help="comma-separated names for the file's columns, in order",
    )
    g.add_argument(
        "--date-format",
        default=None,
        metavar="FMT",
        help="strftime pattern of the dates, e.g. %%Y%%m%%d (default: YYYY-MM-DD)",
    )
    g.add_argument(
        "--input-format",
        choices=("auto", "text", "parquet"),
        default="auto",
        help="file format (default: by the file name's suffix)",
    )


def _add_output_options(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("output")
    g.add_argument(
        "--output",
        default=None,
        metavar="OUT.csv",
        help="write one row per customer to this CSV file",
    )
    g.add_argument(
        "--format",
        choices=("text", "json"),
        default="text",
        help="summary on stdout as plain text or JSON (default: text)",
    )


def _read(args: argparse.Namespace, *, cost_column: str | None = None) -> Transactions:
    names = None
    if args.columns is not None:
        names = [c.strip() for c in args.columns.split(",")]
        if any(not c for c in names):
            raise _UsageError(f"--columns: empty column name in {args.columns!r}")
    return read_transactions(
        args.transactions,
        customer_column=args.customer_column,
        date_column=args.date_column,
        amount_column=args.amount_column,
        cost_column=cost_column,
        separator=args.separator,
        has_header=not args.no_header,
        column_names=names,
        date_format=args.date_format,
        file_format=args.input_format,
    )


def _date_option(value: str | None, option: str) -> int | None:
    if value is None:
        return None
    try:
        return day_number(value)
    except InputError:
        raise _UsageError(f"{option}: {value!r} is not a date (expected YYYY-MM-DD)") from None


def _floats_option(value: str | None, option: str, count: int) -> tuple[float, ...] | None:
    if value is None:
        return None
    try:
        numbers = tuple(float(v) for v in value.split(","))
    except ValueError:
        raise _UsageError(f"{option}: {value!r} is not a comma-separated list of numbers") from None
    if len(numbers) != count or not all(math.isfinite(v) for v in numbers):
        raise _UsageError(f"{option}: needs {count} finite numbers, got {value!r}")
    return numbers


def _positive_int(value: str) -> int:
    try:
        number = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} is not a whole number") from None
    if number < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {number}")
    return number


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def _print_json(payload: dict[str, Any]) -> None:
    json.dump(_jsonable(payload), sys.stdout, ensure_ascii=False, indent=2)
    sys.stdout.write("\n")


def _write_csv(frame: pl.DataFrame, path: str) -> None:
    frame.write_csv(Path(path))


def _customer_column(tx: Transactions, codes: np.ndarray) -> pl.Series:
    return pl.Series("customer_id", tx.customer_ids[codes])


def _run(command: Callable[[argparse.Namespace], int]) -> Callable[[argparse.Namespace], int]:
    """Turn engine and option errors into one stderr line and an exit code, no traceback."""

    def wrapper(args: argparse.Namespace) -> int:
        prog = f"guanxi analytics {args.analytics_command}"
        try:
            return command(args)
        except InputError as exc:
            print(f"{prog}: error: {exc.with_source(args.transactions)}", file=sys.stderr)
            return EXIT_INPUT_ERROR
        except _UsageError as exc:
            print(f"{prog}: error: {exc}", file=sys.stderr)
            return EXIT_INPUT_ERROR
        except pl.exceptions.PolarsError as exc:
            text = str(exc).strip().splitlines()
            print(
                f"{prog}: error: {args.transactions}: {text[0] if text else exc}", file=sys.stderr
            )
            return EXIT_INPUT_ERROR
        except OSError as exc:
            where = f"{exc.filename}: {exc.strerror}" if exc.filename else str(exc)
            print(f"{prog}: error: {where}", file=sys.stderr)
            return EXIT_OUTPUT_ERROR

    return wrapper


# --- rfm -----------------------------------------------------------------------------------------


def _cmd_rfm(args: argparse.Namespace) -> int:
    as_of = _date_option(args.as_of, "--as-of")
    cuts = [
        _floats_option(args.recency_cuts, "--recency-cuts", 4),
        _floats_option(args.frequency_cuts, "--frequency-cuts", 4),
        _floats_option(args.monetary_cuts, "--monetary-cuts", 4),
    ]
    thresholds = None
    if any(c is not None for c in cuts):
        if any(c is None for c in cuts):
            raise _UsageError("--recency-cuts, --frequency-cuts and --monetary-cuts go together")
        try:
            thresholds = rfm.RfmThresholds(cuts[0], cuts[1], cuts[2])  # type: ignore[arg-type]
        except InputError as exc:
            raise _UsageError(f"--{exc.column}-cuts: {exc.problem}") from None
    tx = _read(args)
    result = rfm.rfm_analysis(
        tx.customer,
        tx.day,
        tx.amount,
        as_of=as_of,
        window_days=args.window_days,
        n_customers=tx.n_customers,
        thresholds=thresholds,
    )
    if args.output:
        _write_csv(
            pl.DataFrame(
                [
                    _customer_column(tx, result.customer),
                    pl.Series("recency_days", result.recency_days),
                    pl.Series("frequency", result.frequency),
                    pl.Series("monetary", result.monetary),
                    pl.Series("r_score", result.r_score),
                    pl.Series("f_score", result.f_score),
                    pl.Series("m_score", result.m_score),
                    pl.Series("rfm_class", result.class_codes()),
                ]
            ),
            args.output,
        )
    classes = [
        {
            "class": s.rfm_class.code,
            "label_zh": s.rfm_class.label_zh,
            "label_en": s.rfm_class.label_en,
            "playbook": s.rfm_class.playbook,
            "customers": s.customers,
            "spend": s.spend,
        }
        for s in result.class_summary()
    ]
    payload = {
        "as_of": day_date(result.as_of_day).isoformat(),
        "window_days": result.window_days,
        "scoring": "quintiles" if thresholds is None else "thresholds",
        "customers": result.n,
        "spend": float(result.monetary.sum()),
        "score_means": {"r": result.r_mean, "f": result.f_mean, "m": result.m_mean},
        "classes": classes,
    }
    if args.format == "json":
        _print_json(payload)
    else:
        window = f", window {result.window_days} days" if result.window_days else ""
        print(
            f"RFM as of {payload['as_of']}{window}: {result.n} customers, "
            f"spend {payload['spend']:.2f}"
        )
        print(f"score means: R {result.r_mean:.3f}  F {result.f_mean:.3f}  M {result.m_mean:.3f}")
        for c in classes:
            print(
                f"  {c['class']:<22} {c['label_zh']:<8} {c['customers']:>10} customers  "
                f"spend {c['spend']:.2f}"
            )
    return EXIT_OK


# --- abc -----------------------------------------------------------------------------------------


def _cmd_abc(args: argparse.Namespace) -> int:
    as_of = _date_option(args.as_of, "--as-of")
    abc_cuts = _floats_option(args.cuts, "--cuts", 2) or abc_engine.DEFAULT_ABC_CUTS
    tier_cuts = _floats_option(args.tier_cuts, "--tier-cuts", 3) or abc_engine.DEFAULT_TIER_CUTS
    for option, cuts in (("--cuts", abc_cuts), ("--tier-cuts", tier_cuts)):
        try:
            abc_engine.check_cuts(cuts, len(cuts), option)
        except InputError as exc:
            raise _UsageError(f"{option}: {exc.problem}") from None
    if args.window_days is not None and as_of is None:
        raise _UsageError("--window-days needs --as-of")
    tx = _read(args, cost_column=args.cost_column)
    keep = np.ones(tx.n_transactions, dtype=bool)
    if as_of is not None:
        keep &= tx.day <= as_of
        if args.window_days is not None:
            keep &= tx.day > as_of - args.window_days
    n = tx.n_customers
    codes = tx.customer[keep]
    count = np.bincount(codes, minlength=n)
    customers = np.flatnonzero(count)
    if len(customers) == 0:
        raise InputError("no transactions in the period", source=tx.source)
    revenue = np.bincount(codes, weights=tx.amount[keep], minlength=n)[customers]
    cost = None
    value = revenue
    if tx.cost is not None:
        cost = np.bincount(codes, weights=tx.cost[keep], minlength=n)[customers]
        value = revenue - cost
    order = abc_engine.rank_order(value)
    abc = abc_engine.abc_analysis(value, cuts=abc_cuts, order=order)
    if args.tier_basis == "amount":
        tiers = abc_engine.value_tiers(value, cuts=tier_cuts, order=order)
    else:
        tiers = abc_engine.value_tiers(count[customers].astype(np.float64), cuts=tier_cuts)
    curve = abc_engine.pareto_curve(value, points=args.curve_points)
    if args.output:
        columns = [
            _customer_column(tx, customers),
            pl.Series("transactions", count[customers]),
            pl.Series("revenue", revenue),
        ]
        if cost is not None:
            columns += [pl.Series("cost", cost), pl.Series("profit", value)]
        columns += [
            pl.Series("abc_rank", abc.rank),
            pl.Series("cumulative_share", abc.cumulative_share),
            pl.Series("abc_class", abc.labels()),
            pl.Series("tier_rank", tiers.rank),
            pl.Series("tier", tiers.codes()),
        ]
        _write_csv(pl.DataFrame(columns), args.output)
    value_name = "profit" if cost is not None else "revenue"
    tier_info = {t.code: t for t in abc_engine.VALUE_TIERS}
    payload = {
        "as_of": None if as_of is None else day_date(as_of).isoformat(),
        "window_days": args.window_days,
        "customers": int(len(customers)),
        "value": value_name,
        "total": abc.total,
        "abc": {
            "cuts": list(abc.cuts),
            "classes": [
                {
                    "class": g.label,
                    "customers": g.customers,
                    "customer_share": g.customer_share,
                    "value": g.value,
                    "value_share": g.value_share,
                    "source_customer_share": list(abc_engine.ABC_SOURCE_RANGES[g.label][0]),
                    "source_value_share": list(abc_engine.ABC_SOURCE_RANGES[g.label][1]),
                }
                for g in abc.classes
            ],
        },
        "tiers": {
            "basis": args.tier_basis,
            "cuts": list(tiers.cuts),
            "tiers": [
                {
                    "tier": g.label,
                    "label_zh": tier_info[g.label].label_zh,
                    "label_en": tier_info[g.label].label_en,
                    "customers": g.customers,
                    "customer_share": g.customer_share,
                    "value": g.value,
                    "value_share": g.value_share,
                }
                for g in tiers.tiers
            ],
        },
        "pareto_curve": {
            "customer_share": curve.customer_share.tolist(),
            "value_share": curve.value_share.tolist(),
        },
    }
    if args.format == "json":
        _print_json(payload)
    else:
        print(
            f"ABC by {value_name}: {len(customers)} customers, total {abc.total:.2f}, "
            f"cuts {abc.cuts[0]:.0%} / {abc.cuts[1]:.0%}"
        )
        for g in abc.classes:
            print(
                f"  {g.label}  {g.customers:>10} customers ({g.customer_share:6.1%})  "
                f"{value_name} {g.value:.2f} ({g.value_share:6.1%})"
            )
        print(f"value tiers by {args.tier_basis}:")
        for g in tiers.tiers:
            t = tier_info[g.label]
            print(
                f"  {t.code:<7} {t.label_zh:<5} {g.customers:>10} customers "
                f"({g.customer_share:6.1%})  {value_name} {g.value:.2f}"
            )
    return EXIT_OK


# --- churn-rate ----------------------------------------------------------------------------------


def _cmd_churn(args: argparse.Namespace) -> int:
    start = _date_option(args.start, "--start")
    end = _date_option(args.end, "--end")
    if start is None or end is None:
        raise _UsageError("--start and --end are required")
    if end < start:
        raise _UsageError("--end is before --start")
    tx = _read(args)
    rates = churn_rates(
        tx.customer,
        tx.day,
        tx.amount,
        start=start,
        end=end,
        active_days=args.active_days,
        n_customers=tx.n_customers,
    )
    if args.output:
        _write_csv(pl.DataFrame([_customer_column(tx, rates.lost_customers)]), args.output)
    payload = {
        "start": day_date(rates.start_day).isoformat(),
        "end": day_date(rates.end_day).isoformat(),
        "reference_start": day_date(rates.reference_start_day).isoformat(),
        "reference_end": day_date(rates.start_day - 1).isoformat(),
        "population": rates.population,
        "lost": rates.lost,
        "absolute_rate": rates.absolute_rate,
        "population_spend": rates.population_spend,
        "lost_spend": rates.lost_spend,
        "relative_purchases": rates.relative_purchases,
        "relative_rate": rates.relative_rate,
    }
    if args.format == "json":
        _print_json(payload)
    else:
        print(
            f"churn from {payload['start']} to {payload['end']} "
            f"(reference {payload['reference_start']} to {payload['reference_end']})"
        )
        print(f"  population {rates.population}, lost {rates.lost}")
        print(f"  absolute churn rate {rates.absolute_rate:.4%}")
        print(f"  relative purchases  {rates.relative_purchases:.4%}")
        print(f"  relative churn rate {rates.relative_rate:.4%}")
    return EXIT_OK


# --- lifecycle -----------------------------------------------------------------------------------


def _cmd_lifecycle(args: argparse.Namespace) -> int:
    as_of = _date_option(args.as_of, "--as-of")
    try:
        rules = lifecycle.LifecycleSettings(
            lost_after_days=args.lost_after_days,
            loyal_purchase_days=args.loyal_purchase_days,
            loyal_span_days=args.loyal_span_days,
            trend_window_days=args.trend_window_days,
            trend_min_purchase_days=args.trend_min_purchase_days,
            decline_ratio=args.decline_ratio,
        )
    except InputError as exc:
        option = "--" + (exc.column or "").replace("_", "-")
        raise _UsageError(f"{option}: {exc.problem}") from None
    tx = _read(args)
    result = lifecycle.lifecycle_stages(
        tx.customer, tx.day, tx.amount, as_of=as_of, settings=rules, n_customers=tx.n_customers
    )
    if args.output:
        _write_csv(
            pl.DataFrame(
                [
                    _customer_column(tx, result.customer),
                    pl.Series("stage", result.stage_codes()),
                    pl.Series("declining", result.declining),
                    pl.Series("purchase_days", result.purchase_days),
                    pl.Series("frequency_trend", result.frequency_trend),
                    pl.Series("spend_trend", result.spend_trend),
                ]
            ),
            args.output,
        )
    counts = np.bincount(result.stage, minlength=len(lifecycle.STAGES))
    declining = np.bincount(result.stage[result.declining], minlength=len(lifecycle.STAGES))
    payload = {
        "as_of": day_date(result.as_of_day).isoformat(),
        "customers": int(len(result.customer)),
        "declining": int(result.declining.sum()),
        "settings": dict(vars(rules)),
        "stages": [
            {
                "stage": s.code,
                "label_zh": s.label_zh,
                "label_en": s.label_en,
                "customers": int(counts[i]),
                "declining": int(declining[i]),
            }
            for i, s in enumerate(lifecycle.STAGES)
        ],
    }
    if args.format == "json":
        _print_json(payload)
    else:
        print(
            f"lifecycle as of {payload['as_of']}: {payload['customers']} customers, "
            f"{payload['declining']} declining"
        )
        for st in payload["stages"]:
            print(
                f"  {st['stage']:<11} {st['label_zh']:<7} {st['customers']:>10} customers, "
                f"{st['declining']} declining"
            )
    return EXIT_OK


# --- clv -----------------------------------------------------------------------------------------


def _cmd_clv(args: argparse.Namespace) -> int:
    cal_end = _date_option(args.calibration_end, "--calibration-end")
    hold_end = _date_option(args.holdout_end, "--holdout-end")
    if hold_end is not None and cal_end is not None and hold_end <= cal_end:
        raise _UsageError("--holdout-end must be after --calibration-end")
    if not (math.isfinite(args.discount_rate) and args.discount_rate > -1):
        raise _UsageError(f"--discount-rate: must be a number > -1, got {args.discount_rate}")
    tx = _read(args)
    s = summary.clv_summary(
        tx.customer,
        tx.day,
        tx.amount,
        calibration_end=cal_end,
        holdout_end=hold_end,
        period=args.period,
        n_customers=tx.n_customers,
    )
    ids, source = tx.customer_ids, tx.source
    del tx  # the per-transaction arrays are not needed past the summary
    fit = bgnbd.fit_bgnbd(s.x, s.t_x, s.T)
    repeat = s.x > 0
    # Gamma-Gamma needs positive amounts: repeat customers whose mean repeat spend is zero or
    # negative (free items, refunds) are left out of its fit and valued with a mean of 0.
    spend_rows = repeat & (s.monetary > 0)
    if not spend_rows.any():
        raise InputError(
            "no customer has a repeat purchase of positive amount in the calibration period: "
            "the Gamma-Gamma model cannot be fitted",
            source=source,
        )
    gg = gammagamma.fit_gamma_gamma(s.x[spend_rows], s.monetary[spend_rows])
    period_days = summary.PERIOD_DAYS[args.period]
    horizon_periods = args.horizon_weeks * 7 // period_days
    values = clv.bgnbd_gamma_gamma_clv(
        fit,
        gg,
        s.x,
        s.t_x,
        s.T,
        np.maximum(s.monetary, 0.0),
        horizon_periods=horizon_periods,
        discount_rate=args.discount_rate,
    )
    if args.output:
        _write_csv(
            pl.DataFrame(
                [
                    pl.Series("customer_id", ids[s.customer]),
                    pl.Series("x", s.x),
                    pl.Series("t_x", s.t_x),
                    pl.Series("T", s.T),
                    pl.Series("monetary", s.monetary),
                    pl.Series("p_alive", values.p_alive),
                    pl.Series("expected_purchases", values.expected_purchases),
                    pl.Series("expected_spend", values.expected_spend),
                    pl.Series("clv", values.clv),
                ]
            ),
            args.output,
        )
    payload: dict[str, Any] = {
        "engine_version": ENGINE_VERSION,
        "calibration_end": day_date(s.calibration_end_day).isoformat(),
        "period": args.period,
        "n_customers": s.n,
        "n_repeat_customers": int(repeat.sum()),
        "bgnbd": {
            "r": fit.r,
            "alpha": fit.alpha,
            "a": fit.a,
            "b": fit.b,
            "log_likelihood": fit.log_likelihood,
            "converged": fit.converged,
        },
        "gamma_gamma": {
            "p": gg.p,
            "q": gg.q,
            "v": gg.v,
            "log_likelihood": gg.log_likelihood,
            "converged": gg.converged,
            "n": int(spend_rows.sum()),
            "excluded_non_positive": int((repeat & ~spend_rows).sum()),
        },
        "horizon_weeks": args.horizon_weeks,
        "horizon_periods": horizon_periods,
        "discount_rate": args.discount_rate,
        "total_clv": float(values.clv.sum()),
        "mean_clv": float(values.clv.mean()),
    }
    if s.x_star is not None and s.t_star is not None and s.holdout_end_day is not None:
        predicted = bgnbd.conditional_expected_purchases(fit, s.t_star, s.x, s.t_x, s.T)
        payload["holdout"] = {
            "holdout_end": day_date(s.holdout_end_day).isoformat(),
            "length_periods": s.t_star,
            "actual_repeat_transactions": int(s.x_star.sum()),
            "predicted_repeat_transactions": float(predicted.sum()),
        }
    if args.format == "json":
        _print_json(payload)
    else:
        print(
            f"CLV summary to {payload['calibration_end']} in {args.period}s: {s.n} customers, "
            f"{payload['n_repeat_customers']} with repeat purchases"
        )
        print(
            f"BG/NBD      r={fit.r:.4g} alpha={fit.alpha:.4g} a={fit.a:.4g} b={fit.b:.4g} "
            f"log-likelihood {fit.log_likelihood:.2f}"
        )
        print(
            f"Gamma-Gamma p={gg.p:.4g} q={gg.q:.4g} v={gg.v:.4g} "
            f"log-likelihood {gg.log_likelihood:.2f}"
        )
        excluded = payload["gamma_gamma"]["excluded_non_positive"]
        if excluded:
            print(f"  ({excluded} repeat customers with a mean spend <= 0 left out of the fit)")
        print(
            f"CLV over {args.horizon_weeks} weeks at {args.discount_rate} per {args.period}: "
            f"total {payload['total_clv']:.2f}, mean {payload['mean_clv']:.2f}"
        )
        if "holdout" in payload:
            h = payload["holdout"]
            print(
                f"holdout to {h['holdout_end']}: actual {h['actual_repeat_transactions']} "
                f"repeat purchase days, predicted {h['predicted_repeat_transactions']:.1f}"
            )
    return EXIT_OK


# --- registration --------------------------------------------------------------------------------


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add ``analytics`` and its sub-commands to the ``guanxi`` parser."""
    p = subparsers.add_parser(
        "analytics",
        help="customer-value analytics on a transactions file",
        description="Customer-value analytics on a transaction log (CSV, text or Parquet).",
    )
    sub = p.add_subparsers(dest="analytics_command", metavar="COMMAND")
    p.set_defaults(func=lambda args: p.print_help() or EXIT_INPUT_ERROR)

    c = sub.add_parser("rfm", help="RFM values, scores 1-5 and the eight classes")
    _add_input_options(c)
    c.add_argument("--as-of", required=True, metavar="DATE", help="as-of date, YYYY-MM-DD")
    c.add_argument(
        "--window-days",
        type=_positive_int,
        default=None,
        metavar="N",
        help="only the N days ending on the as-of date (default: all history)",
    )
    c.add_argument(
        "--recency-cuts",
        default=None,
        metavar="C1,C2,C3,C4",
        help="threshold scoring: four ascending recency cut points in days",
    )
    c.add_argument(
        "--frequency-cuts",
        default=None,
        metavar="C1,C2,C3,C4",
        help="threshold scoring: four ascending frequency cut points",
    )
    c.add_argument(
        "--monetary-cuts",
        default=None,
        metavar="C1,C2,C3,C4",
        help="threshold scoring: four ascending monetary cut points",
    )
    _add_output_options(c)
    c.set_defaults(func=_run(_cmd_rfm))

    c = sub.add_parser("abc", help="ABC classes, Pareto curve and value tiers")
    _add_input_options(c)
    c.add_argument(
        "--cost-column",
        default=None,
        metavar="C",
        help="cost column: rank by profit (amount - cost) instead of revenue",
    )
    c.add_argument(
        "--as-of", default=None, metavar="DATE", help="ignore transactions after this date"
    )
    c.add_argument(
        "--window-days",
        type=_positive_int,
        default=None,
        metavar="N",
        help="only the N days ending on the as-of date",
    )
    c.add_argument(
        "--cuts",
        default=None,
        metavar="A,B",
        help="cumulative value shares ending classes A and B (default: 0.8,0.95)",
    )
    c.add_argument(
        "--tier-cuts",
        default=None,
        metavar="VIP,MAJOR,COMMON",
        help="customer shares ending the VIP, major and common tiers (default: 0.01,0.05,0.2)",
    )
    c.add_argument(
        "--tier-basis",
        choices=("amount", "count"),
        default="amount",
        help="rank tiers by value (amount) or number of transactions (default: amount)",
    )
    c.add_argument(
        "--curve-points",
        type=_positive_int,
        default=101,
        metavar="N",
        help="points of the Pareto curve in the JSON summary (default: 101)",
    )
    _add_output_options(c)
    c.set_defaults(func=_run(_cmd_abc))

    c = sub.add_parser("churn-rate", help="absolute and relative churn rates over a period")
    _add_input_options(c)
    c.add_argument("--start", required=True, metavar="DATE", help="first day of the period")
    c.add_argument("--end", required=True, metavar="DATE", help="last day of the period")
    c.add_argument(
        "--active-days",
        type=_positive_int,
        default=None,
        metavar="N",
        help="population: customers who bought in the N days before the start "
        "(default: any time before)",
    )
    _add_output_options(c)
    c.set_defaults(func=_run(_cmd_churn))

    c = sub.add_parser("lifecycle", help="lifecycle stages and declining customers")
    _add_input_options(c)
    c.add_argument("--as-of", required=True, metavar="DATE", help="as-of date, YYYY-MM-DD")
    defaults = lifecycle.LifecycleSettings()
    c.add_argument(
        "--lost-after-days",
        type=_positive_int,
        default=defaults.lost_after_days,
        metavar="N",
        help="lost after N days without a purchase (default: %(default)s)",
    )
    c.add_argument(
        "--loyal-purchase-days",
        type=_positive_int,
        default=defaults.loyal_purchase_days,
        metavar="N",
        help="loyal from N purchase days (default: %(default)s)",
    )
    c.add_argument(
        "--loyal-span-days",
        type=_positive_int,
        default=defaults.loyal_span_days,
        metavar="N",
        help="loyal after N days since the first purchase (default: %(default)s)",
    )
    c.add_argument(
        "--trend-window-days",
        type=_positive_int,
        default=defaults.trend_window_days,
        metavar="N",
        help="recent window of the decline trend (default: %(default)s)",
    )
    c.add_argument(
        "--trend-min-purchase-days",
        type=_positive_int,
        default=defaults.trend_min_purchase_days,
        metavar="N",
        help="earlier purchase days needed for a trend (default: %(default)s)",
    )
    c.add_argument(
        "--decline-ratio",
        type=float,
        default=defaults.decline_ratio,
        metavar="R",
        help="declining when a trend is below R (default: %(default)s)",
    )
    _add_output_options(c)
    c.set_defaults(func=_run(_cmd_lifecycle))

    c = sub.add_parser("clv", help="BG/NBD and Gamma-Gamma fits and CLV per customer")
    _add_input_options(c)
    c.add_argument(
        "--calibration-end",
        required=True,
        metavar="DATE",
        help="last day of the calibration period",
    )
    c.add_argument(
        "--holdout-end",
        default=None,
        metavar="DATE",
        help="last day of a holdout period to compare predictions with",
    )
    c.add_argument(
        "--period",
        choices=("week", "day"),
        default="week",
        help="time unit of t_x, T and the model (default: week)",
    )
    c.add_argument(
        "--horizon-weeks",
        type=_positive_int,
        default=52,
        metavar="N",
        help="CLV horizon in weeks (default: 52)",
    )
    c.add_argument(
        "--discount-rate",
        type=float,
        default=0.0,
        metavar="I",
        help="discount rate per period (per week with --period week; default: 0)",
    )
    _add_output_options(c)
    c.set_defaults(func=_run(_cmd_clv))


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``guanxi analytics`` alone (the same parser as under ``guanxi``)."""
    parser = argparse.ArgumentParser(prog="guanxi")
    register(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(["analytics", *(argv if argv is not None else sys.argv[1:])])
    return int(args.func(args) or 0)
