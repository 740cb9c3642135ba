"""The CLV run of ``guanxi analytics clv`` done with lifetimes 0.11.3, for the benchmark.

File -> calibration summary (summary_data_from_transaction_data, days / 7) -> BetaGeoFitter and
GammaGammaFitter -> P(alive), expected purchases and spend -> customer_lifetime_value -> CSV with
the same columns as guanxi's. lifetimes discounts by month (its ``time`` is in months); prints
the fitted parameters as JSON. Run by bench/analytics/run.py in a subprocess.
"""

from __future__ import annotations

import argparse
import json
import sys


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("transactions")
    parser.add_argument("--calibration-end", required=True)
    parser.add_argument("--horizon-months", type=int, default=12)
    parser.add_argument("--discount-rate", type=float, default=0.0, help="per month")
    parser.add_argument("--output", required=True)
    args = parser.parse_args(argv)

    import pandas as pd
    from lifetimes import BetaGeoFitter, GammaGammaFitter
    from lifetimes.utils import summary_data_from_transaction_data

    log = pd.read_parquet(args.transactions, columns=["customer_id", "date", "amount"])
    summary = summary_data_from_transaction_data(
        log,
        "customer_id",
        "date",
        monetary_value_col="amount",
        observation_period_end=args.calibration_end,
        freq="D",
        freq_multiplier=7,
    )
    del log
    x, t_x, age, mean = (
        summary["frequency"],
        summary["recency"],
        summary["T"],
        summary["monetary_value"],
    )
    bgf = BetaGeoFitter().fit(x, t_x, age)
    repeat = summary[summary["frequency"] > 0]
    ggf = GammaGammaFitter().fit(repeat["frequency"], repeat["monetary_value"])
    horizon_weeks = args.horizon_months * 4.345
    out = pd.DataFrame(
        {
            "x": x,
            "t_x": t_x,
            "T": age,
            "monetary": mean,
            "p_alive": bgf.conditional_probability_alive(x, t_x, age),
            "expected_purchases": bgf.conditional_expected_number_of_purchases_up_to_time(
                horizon_weeks, x, t_x, age
            ),
            "expected_spend": ggf.conditional_expected_average_profit(x, mean),
            "clv": ggf.customer_lifetime_value(
                bgf,
                x,
                t_x,
                age,
                mean,
                time=args.horizon_months,
                discount_rate=args.discount_rate,
                freq="W",
            ),
        }
    )
    out.index.name = "customer_id"
    out.to_csv(args.output)
    json.dump(
        {
            "n_customers": len(summary),
            "bgnbd": {k: float(v) for k, v in bgf.params_.items()},
            "gamma_gamma": {k: float(v) for k, v in ggf.params_.items()},
        },
        sys.stdout,
    )
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
