"""Benchmark the analytics engine against lifetimes 0.11.3 on a generated transaction log.

Measured in one run, side by side:

1. RFM values, scores and classes, ABC classes and value tiers from the Parquet file (read
   included), in process; also on the same rows in random order;
2. the BG/NBD fit (guanxi's fit_bgnbd against lifetimes' BetaGeoFitter) and the Gamma-Gamma fit
   (fit_gamma_gamma against GammaGammaFitter) on the same calibration summary, with the largest
   relative difference between their parameters;
3. the whole CLV run from the file to a per-customer CSV: ``guanxi analytics clv`` against the
   same work done with lifetimes (bench/analytics/lifetimes_clv.py), each in its own process,
   with wall time, CPU time and peak resident memory.

pymc-marketing's MAP fit is measured when the package is installed, and skipped otherwise.
Each guanxi step is run ``--repeat`` times and the shortest wall time (and CPU time) is kept;
lifetimes runs once per step (it takes tens of seconds). CPU time is reported beside wall time
because the machine may be shared. Child processes keep compiled bytecode under bench/out/pycache
and import their modules once before timing, so neither side pays for compiling Python files.

    .venv/bin/python bench/analytics/run.py [--customers N] [--seed S] [--repeat K]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

import generate  # noqa: E402  (the sibling script)

from guanxi.analytics.engine.abc import abc_analysis, value_tiers  # noqa: E402
from guanxi.analytics.engine.bgnbd import fit_bgnbd  # noqa: E402
from guanxi.analytics.engine.gammagamma import fit_gamma_gamma  # noqa: E402
from guanxi.analytics.engine.io import read_transactions  # noqa: E402
from guanxi.analytics.engine.rfm import rfm_analysis  # noqa: E402
from guanxi.analytics.engine.summary import clv_summary  # noqa: E402

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parents[1]
OUT = generate.DEFAULT_OUT
CALIBRATION_END = "2024-06-30"
AS_OF = "2024-12-31"
HORIZON_WEEKS = 52
HORIZON_MONTHS = 12
ANNUAL_DISCOUNT = 0.10


def timed(repeat: int, work: Callable[[], Any]) -> tuple[float, float, Any]:
    """The shortest wall and CPU seconds of ``repeat`` runs, and the last result."""
    wall, cpu, result = float("inf"), float("inf"), None
    for _ in range(repeat):
        started, cpu_started = time.perf_counter(), time.process_time()
        result = work()
        wall = min(wall, time.perf_counter() - started)
        cpu = min(cpu, time.process_time() - cpu_started)
    return wall, cpu, result


def rfm_abc_tiers(path: Path) -> int:
    tx = read_transactions(path)
    rfm = rfm_analysis(tx.customer, tx.day, tx.amount, as_of=AS_OF, n_customers=tx.n_customers)
    abc_analysis(rfm.monetary, order=rfm.monetary_order)
    value_tiers(rfm.monetary, order=rfm.monetary_order)
    return rfm.n


def child_environment() -> dict[str, str]:
    env = dict(os.environ)
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env["PYTHONPYCACHEPREFIX"] = str(OUT / "pycache")
    return env


def run_measured(command: list[str]) -> tuple[float, float, float, str]:
    """Wall seconds, CPU seconds, peak resident MiB and stdout of one child process."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        started = time.perf_counter()
        proc = subprocess.Popen(command, stdout=out, stderr=err, env=child_environment())
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - started
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        if proc.returncode != 0:
            raise RuntimeError(f"{' '.join(command)} failed:\n{err.read().decode()}")
        cpu = usage.ru_utime + usage.ru_stime
        return wall, cpu, usage.ru_maxrss / 1024, out.read().decode()


def run_best(command: list[str], repeat: int) -> tuple[float, float, float, str]:
    """Shortest wall and CPU time and largest peak memory of ``repeat`` runs, last stdout."""
    runs = [run_measured(command) for _ in range(repeat)]
    return (min(r[0] for r in runs), min(r[1] for r in runs), max(r[2] for r in runs), runs[-1][3])


def guanxi_command() -> list[str]:
    script = Path(sys.executable).with_name("guanxi")
    if script.exists():
        return [str(script)]
    return [sys.executable, "-m", "guanxi.cli"]


def max_relative_difference(ours: dict[str, float], theirs: dict[str, float]) -> float:
    return max(abs(ours[k] - theirs[k]) / abs(theirs[k]) for k in theirs)


def record(results: dict[str, Any], key: str, wall: float, cpu: float, note: str = "") -> None:
    results[f"{key}_s"] = wall
    results[f"{key}_cpu_s"] = cpu
    print(f"{key}: {wall:.3f} s wall, {cpu:.3f} s CPU {note}".rstrip())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--customers", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=20240601)
    parser.add_argument("--repeat", type=int, default=3, help="runs of each guanxi step")
    parser.add_argument(
        "--file", type=Path, default=None, help="an existing transaction log (default: generate)"
    )
    parser.add_argument("--skip-lifetimes", action="store_true")
    parser.add_argument("--pymc-python", type=Path, default=None,
                        help="the interpreter of an environment with pymc-marketing "
                             "(default: .venv-pymc/bin/python when present)")
    args = parser.parse_args(argv)

    path = args.file or generate.default_path(args.customers, args.seed, False)
    if not path.exists():
        rows, seconds = generate.generate(args.customers, args.seed, False, path)
        print(f"generated {path}: {rows:,} transactions in {seconds:.1f} s")
    OUT.mkdir(parents=True, exist_ok=True)
    results: dict[str, Any] = {
        "file": str(path),
        "customers_requested": args.customers,
        "load_average_start": os.getloadavg()[0],
    }

    # 1. RFM + ABC + value tiers, file included.
    wall, cpu, scored = timed(args.repeat, lambda: rfm_abc_tiers(path))
    record(results, "rfm_abc_tiers", wall, cpu, f"({scored:,} customers scored)")
    tx = read_transactions(path)
    results["transactions"] = tx.n_transactions
    results["customers"] = tx.n_customers
    shuffled = None
    if args.file is None:
        # The same rows in random order: no step may rely on rows sorted by customer.
        shuffled = generate.default_path(args.customers, args.seed, True)
        if not shuffled.exists():
            generate.generate(args.customers, args.seed, True, shuffled)
        wall, cpu, _ = timed(args.repeat, lambda: rfm_abc_tiers(shuffled))
        record(results, "rfm_abc_tiers_shuffled", wall, cpu)

    # 2. Fits on one summary.
    summary = clv_summary(
        tx.customer, tx.day, tx.amount, calibration_end=CALIBRATION_END, n_customers=tx.n_customers
    )
    del tx
    x, t_x, age, mean = summary.x, summary.t_x, summary.T, summary.monetary
    repeat = x > 0
    wall, cpu, bg = timed(args.repeat, lambda: fit_bgnbd(x, t_x, age))
    results["bgnbd"] = {"r": bg.r, "alpha": bg.alpha, "a": bg.a, "b": bg.b}
    record(results, "bgnbd", wall, cpu, str(results["bgnbd"]))
    wall, cpu, gg = timed(args.repeat, lambda: fit_gamma_gamma(x[repeat], mean[repeat]))
    results["gamma_gamma"] = {"p": gg.p, "q": gg.q, "v": gg.v}
    record(results, "gamma_gamma", wall, cpu, str(results["gamma_gamma"]))

    if not args.skip_lifetimes:
        from lifetimes import BetaGeoFitter, GammaGammaFitter

        wall, cpu, bgf = timed(1, lambda: BetaGeoFitter().fit(x, t_x, age))
        theirs = {k: float(v) for k, v in bgf.params_.items()}
        results["lifetimes_bgnbd"] = theirs
        results["bgnbd_max_rel_diff"] = max_relative_difference(results["bgnbd"], theirs)
        record(results, "lifetimes_bgnbd", wall, cpu, str(theirs))
        wall, cpu, ggf = timed(1, lambda: GammaGammaFitter().fit(x[repeat], mean[repeat]))
        theirs = {k: float(v) for k, v in ggf.params_.items()}
        results["lifetimes_gamma_gamma"] = theirs
        results["gamma_gamma_max_rel_diff"] = max_relative_difference(
            results["gamma_gamma"], theirs
        )
        record(results, "lifetimes_gamma_gamma", wall, cpu, str(theirs))

    # pymc-marketing's MAP fits on the same summary, in its own environment (it pins an older
    # numpy): make bench-pymc, or --pymc-python PATH.
    pymc_python = args.pymc_python or ROOT / ".venv-pymc" / "bin" / "python"
    if not Path(pymc_python).exists():
        results["pymc_marketing"] = "not installed (make bench-pymc): skipped"
    else:
        import polars as pl

        summary_file = OUT / "summary.parquet"
        pl.DataFrame({"customer_id": summary.customer, "x": x, "t_x": t_x, "T": age,
                      "monetary": mean}).write_parquet(summary_file)
        done = subprocess.run([str(pymc_python), str(BENCH / "pymc_map.py"), str(summary_file)],
                              capture_output=True, text=True, check=False)
        if done.returncode:
            results["pymc_marketing"] = f"failed: {done.stderr.strip().splitlines()[-1:]}"
        else:
            pm = json.loads(done.stdout.strip().splitlines()[-1])
            results["pymc_marketing"] = f"pymc-marketing {pm['version']}, MAP"
            for key in ("bgnbd", "gamma_gamma"):
                results[f"pymc_{key}"] = pm[key]["params"]
                record(results, f"pymc_{key}", pm[key]["wall"], pm[key]["cpu"],
                       str(pm[key]["params"]))
    print(f"pymc-marketing: {results['pymc_marketing']}")

    # 3. The whole CLV run, file to per-customer CSV, each side in its own process.
    weekly = (1 + ANNUAL_DISCOUNT) ** (1 / 52) - 1
    monthly = (1 + ANNUAL_DISCOUNT) ** (1 / 12) - 1
    ours = [
        *guanxi_command(), "analytics", "clv", "--transactions", str(path),
        "--calibration-end", CALIBRATION_END, "--horizon-weeks", str(HORIZON_WEEKS),
        "--discount-rate", f"{weekly:.8f}", "--output", str(OUT / "clv-guanxi.csv"),
        "--format", "json",
    ]  # fmt: skip
    results["cli_clv_command"] = " ".join(ours)
    run_measured([sys.executable, "-c", "import guanxi.analytics.cli"])
    wall, cpu, peak, output = run_best(ours, args.repeat)
    results["cli_clv_peak_mib"] = peak
    record(results, "cli_clv", wall, cpu, f"peak {peak:.0f} MiB")
    cli_report = json.loads(output)
    if shuffled is not None:
        command = [str(shuffled) if part == str(path) else part for part in ours]
        wall, cpu, peak, _ = run_best(command, args.repeat)
        results["cli_clv_shuffled_peak_mib"] = peak
        record(results, "cli_clv_shuffled", wall, cpu, f"peak {peak:.0f} MiB")
    if not args.skip_lifetimes:
        theirs_run = [
            sys.executable, str(BENCH / "lifetimes_clv.py"), str(path),
            "--calibration-end", CALIBRATION_END, "--horizon-months", str(HORIZON_MONTHS),
            "--discount-rate", f"{monthly:.8f}", "--output", str(OUT / "clv-lifetimes.csv"),
        ]  # fmt: skip
        run_measured([sys.executable, "-c", "import lifetimes, pandas, pyarrow"])
        wall, cpu, peak, output = run_measured(theirs_run)
        results["lifetimes_clv_peak_mib"] = peak
        record(results, "lifetimes_clv", wall, cpu, f"peak {peak:.0f} MiB")
        results["cli_bgnbd_max_rel_diff"] = max_relative_difference(
            {k: cli_report["bgnbd"][k] for k in ("r", "alpha", "a", "b")},
            json.loads(output)["bgnbd"],
        )

    results["load_average_end"] = os.getloadavg()[0]
    results["machine"] = {
        "cpus": os.cpu_count(),
        "python": platform.python_version(),
        "numpy": np.__version__,
        "platform": platform.platform(),
    }
    (OUT / "analytics-results.json").write_text(json.dumps(results, indent=2))
    command = (
        f".venv/bin/python bench/analytics/run.py --customers {args.customers} "
        f"--seed {args.seed} --repeat {args.repeat}"
        + (f" --file {args.file}" if args.file else "")
        + (" --skip-lifetimes" if args.skip_lifetimes else "")
    )
    print()
    print(table(results))
    print(f"\nreproduce: {command}")
    print(f"results: {OUT / 'analytics-results.json'}")
    shutil.rmtree(OUT / "pycache", ignore_errors=True)
    return 0


def table(r: dict[str, Any]) -> str:
    def seconds(key: str) -> str:
        return f"{r[key + '_s']:.2f} s" if key + "_s" in r else "skipped"

    def cpu(key: str) -> str:
        return f"{r[key + '_cpu_s']:.2f} s" if key + "_cpu_s" in r else ""

    def ratio(theirs: str, ours: str) -> str:
        return f"{r[theirs + '_s'] / r[ours + '_s']:.1f}x" if theirs + "_s" in r else "n/a"

    def row(label: str, ours: str, theirs: str | None, target: str) -> str:
        if theirs is None:
            return f"| {label} | {seconds(ours)} | {cpu(ours)} | none | | | {target} |"
        return (
            f"| {label} | {seconds(ours)} | {cpu(ours)} | {seconds(theirs)} | {cpu(theirs)} "
            f"| {ratio(theirs, ours)} | {target} |"
        )

    peak_theirs = (
        f"{r['lifetimes_clv_peak_mib']:.0f} MiB" if "lifetimes_clv_peak_mib" in r else "skipped"
    )
    lines = [
        f"{r['customers']:,} customers, {r['transactions']:,} transactions; "
        f"{r['machine']['cpus']} CPUs, Python {r['machine']['python']}; one-minute load "
        f"average {r['load_average_start']:.1f} at the start, {r['load_average_end']:.1f} at "
        "the end",
        "",
        "| step | guanxi wall | guanxi CPU | lifetimes 0.11.3 wall | lifetimes CPU "
        "| speed-up (wall) | target |",
        "|---|---|---|---|---|---|---|",
        row("read Parquet + RFM scores and classes + ABC + value tiers", "rfm_abc_tiers", None,
            "< 1 s"),
        row("the same, rows in random order", "rfm_abc_tiers_shuffled", None, "< 1 s"),
        row("BG/NBD fit on the summary", "bgnbd", "lifetimes_bgnbd", ">= 8x"),
        row("Gamma-Gamma fit on the repeat customers", "gamma_gamma", "lifetimes_gamma_gamma",
            ">= 8x"),
        row("CLV run, file to per-customer CSV", "cli_clv", "lifetimes_clv", ">= 6x"),
        row("the same, rows in random order", "cli_clv_shuffled", None, ""),
        f"| peak resident memory of the CLV run | {r['cli_clv_peak_mib']:.0f} MiB | | "
        f"{peak_theirs} | | | < 1024 MiB |",
    ]  # fmt: skip
    if "pymc_bgnbd_s" in r:
        lines += [
            "",
            f"| {r['pymc_marketing']} | guanxi wall | pymc-marketing wall | pymc-marketing CPU "
            "| speed-up (wall) | parameters (MAP, default priors) |",
            "|---|---|---|---|---|---|",
        ]
        for label, key in (("BG/NBD fit", "bgnbd"), ("Gamma-Gamma fit", "gamma_gamma")):
            params = ", ".join(f"{k} {v:.4g}" for k, v in r[f"pymc_{key}"].items())
            lines.append(f"| {label} | {seconds(key)} | {seconds('pymc_' + key)} "
                         f"| {cpu('pymc_' + key)} | {ratio('pymc_' + key, key)} | {params} |")
    if "bgnbd_max_rel_diff" in r:
        lines += [
            "",
            f"largest relative difference of the parameters from lifetimes': BG/NBD "
            f"{r['bgnbd_max_rel_diff']:.1e}, Gamma-Gamma {r['gamma_gamma_max_rel_diff']:.1e}, "
            f"BG/NBD in the CLV runs {r['cli_bgnbd_max_rel_diff']:.1e}; "
            f"pymc-marketing: {r['pymc_marketing']}",
        ]
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
