"""Generate a seeded transaction log for the analytics benchmarks.

Customers follow the BG/NBD purchase process and Gamma-Gamma spend
(guanxi.analytics.engine.simulate) with known parameters: first purchases spread uniformly over
2022, observed to the end of 2024. The default 1,000,000 customers make about 9.8 million
transactions. The Parquet file has columns customer_id (int64), date (date) and amount (float64),
rows ordered by customer and date unless --shuffle is given.

    .venv/bin/python bench/analytics/generate.py [--customers N] [--seed S] [--shuffle] [--out P]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
import polars as pl

from guanxi.analytics.engine.days import day_number
from guanxi.analytics.engine.simulate import simulate_transactions

#: True parameters; the BG/NBD rates are per day.
PARAMS = {"r": 1.2, "alpha": 50.0, "a": 0.9, "b": 6.0, "p": 6.0, "q": 4.0, "v": 20.0}
FIRST_DAYS = ("2022-01-01", "2022-12-31")
END_DAY = "2024-12-31"
DEFAULT_OUT = Path(__file__).resolve().parents[1] / "out"


def default_path(customers: int, seed: int, shuffle: bool) -> Path:
    suffix = "-shuffled" if shuffle else ""
    return DEFAULT_OUT / f"transactions-{customers}-seed{seed}{suffix}.parquet"


def generate(customers: int, seed: int, shuffle: bool, out: Path) -> tuple[int, float]:
    """Write the file; return the number of transactions and the seconds taken."""
    started = time.perf_counter()
    rng = np.random.default_rng(seed)
    sim = simulate_transactions(
        customers,
        **PARAMS,
        first_day=(day_number(FIRST_DAYS[0]), day_number(FIRST_DAYS[1])),
        end_day=day_number(END_DAY),
        rng=rng,
    )
    frame = pl.DataFrame(
        {
            "customer_id": sim.customer + 1,
            "date": pl.Series(sim.day, dtype=pl.Int32).cast(pl.Date),
            "amount": sim.amount,
        }
    )
    if shuffle:
        frame = frame[rng.permutation(frame.height)]
    out.parent.mkdir(parents=True, exist_ok=True)
    frame.write_parquet(out, statistics=True)
    return frame.height, time.perf_counter() - started


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--customers", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=20240601)
    parser.add_argument("--shuffle", action="store_true", help="write the rows in random order")
    parser.add_argument(
        "--out",
        type=Path,
        default=None,
        help="output file (default: bench/out/transactions-N-seedS.parquet)",
    )
    args = parser.parse_args(argv)
    out = args.out or default_path(args.customers, args.seed, args.shuffle)
    rows, seconds = generate(args.customers, args.seed, args.shuffle, out)
    print(f"wrote {out}: {args.customers:,} customers, {rows:,} transactions in {seconds:.1f} s")
    print(f"parameters (per day): {PARAMS}")
    command = (
        f".venv/bin/python bench/analytics/generate.py --customers {args.customers} "
        f"--seed {args.seed}" + (" --shuffle" if args.shuffle else "")
    )
    print(f"reproduce: {command}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
