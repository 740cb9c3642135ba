"""``guanxi analytics ...`` on files, through a parser built from ``register`` alone."""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import polars as pl
import pytest

from guanxi.analytics import cli

from .conftest import CDNOW_SAMPLE, CDNOW_SUMMARY
from .test_churn import x1_log

CDNOW_OPTIONS = [
    "--transactions",
    str(CDNOW_SAMPLE),
    "--separator",
    "whitespace",
    "--no-header",
    "--columns",
    "master_id,customer_id,date,cds,amount",
    "--date-format",
    "%Y%m%d",
]


def run(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="guanxi")
    cli.register(parser.add_subparsers(dest="command"))
    args = parser.parse_args(["analytics", *argv])
    return int(args.func(args))


def run_json(argv: list[str], capsys: pytest.CaptureFixture[str]) -> dict:
    assert run([*argv, "--format", "json"]) == 0
    return json.loads(capsys.readouterr().out)


def test_clv_reproduces_the_published_cdnow_fit(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "clv.csv"
    report = run_json(
        [
            "clv",
            *CDNOW_OPTIONS,
            "--calibration-end",
            "1997-09-30",
            "--holdout-end",
            "1998-06-30",
            "--output",
            str(out),
        ],
        capsys,
    )
    bg, gg = report["bgnbd"], report["gamma_gamma"]
    assert [f"{bg[k]:.3g}" for k in ("r", "alpha", "a", "b")] == ["0.243", "4.41", "0.793", "2.43"]
    assert [f"{gg[k]:.3g}" for k in ("p", "q", "v")] == ["6.25", "3.74", "15.4"]
    assert bg["log_likelihood"] == pytest.approx(-9582.4, abs=0.1)
    assert report["n_customers"] == 2357
    holdout = report["holdout"]
    assert holdout["actual_repeat_transactions"] == 1882
    assert 1000 < holdout["predicted_repeat_transactions"] < 3000
    table = pl.read_csv(out, schema_overrides={"customer_id": pl.String})
    assert table.columns == [
        "customer_id",
        "x",
        "t_x",
        "T",
        "monetary",
        "p_alive",
        "expected_purchases",
        "expected_spend",
        "clv",
    ]
    assert table.height == 2357 and table["customer_id"][0] == "0001"
    published = pl.read_csv(CDNOW_SUMMARY).sort("ID")
    assert table["x"].to_list() == published["frequency"].to_list()
    assert table["p_alive"].is_between(0, 1).all()
    assert table["clv"].sum() == pytest.approx(report["total_clv"])


def test_clv_text_summary_and_daily_period(capsys: pytest.CaptureFixture[str]) -> None:
    assert (
        run(
            [
                "clv",
                *CDNOW_OPTIONS,
                "--calibration-end",
                "1997-09-30",
                "--period",
                "day",
                "--horizon-weeks",
                "4",
                "--discount-rate",
                "0.0005",
            ]
        )
        == 0
    )
    text = capsys.readouterr().out
    assert "BG/NBD" in text and "Gamma-Gamma" in text and "CLV over 4 weeks" in text
    assert "r=0.2426" in text  # r does not depend on the time unit


def test_rfm(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    log = tmp_path / "tx.csv"
    log.write_text(
        "customer_id,date,amount\nA,2024-06-01,100\nA,2024-06-20,50\n"
        "B,2024-01-05,20\nC,2024-06-29,5\nD,2023-01-01,999\nC,2024-07-02,1\n"
    )
    out = tmp_path / "rfm.csv"
    report = run_json(
        [
            "rfm",
            "--transactions",
            str(log),
            "--as-of",
            "2024-06-30",
            "--window-days",
            "365",
            "--output",
            str(out),
        ],
        capsys,
    )
    assert report["customers"] == 3 and report["spend"] == pytest.approx(175.0)
    assert sum(c["customers"] for c in report["classes"]) == 3
    assert {c["label_zh"] for c in report["classes"]} >= {"重要价值客户", "一般挽留客户"}
    table = pl.read_csv(out)
    assert table.columns == [
        "customer_id",
        "recency_days",
        "frequency",
        "monetary",
        "r_score",
        "f_score",
        "m_score",
        "rfm_class",
    ]
    assert table["customer_id"].to_list() == ["A", "B", "C"]
    assert table["recency_days"].to_list() == [10, 177, 1]
    assert table["frequency"].to_list() == [2, 1, 1]


def test_rfm_thresholds_need_all_three(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    log = tmp_path / "tx.csv"
    log.write_text("customer_id,date,amount\nA,2024-06-01,100\n")
    assert (
        run(
            [
                "rfm",
                "--transactions",
                str(log),
                "--as-of",
                "2024-06-30",
                "--recency-cuts",
                "30,60,90,180",
            ]
        )
        == 2
    )
    assert "go together" in capsys.readouterr().err
    report = run_json(
        [
            "rfm",
            "--transactions",
            str(log),
            "--as-of",
            "2024-06-30",
            "--recency-cuts",
            "30,60,90,180",
            "--frequency-cuts",
            "2,3,4,5",
            "--monetary-cuts",
            "10,20,50,100",
        ],
        capsys,
    )
    assert report["scoring"] == "thresholds"


def test_churn_rate_x1(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    customer, day, amount, _ = x1_log(gained=120)
    log = tmp_path / "x1.parquet"
    pl.DataFrame(
        {
            "customer_id": customer,
            "date": pl.Series(day.astype(np.int32)).cast(pl.Date),
            "amount": amount,
        }
    ).write_parquet(log)
    out = tmp_path / "lost.csv"
    report = run_json(
        [
            "churn-rate",
            "--transactions",
            str(log),
            "--start",
            "2024-01-01",
            "--end",
            "2024-12-31",
            "--output",
            str(out),
        ],
        capsys,
    )
    assert (report["population"], report["lost"]) == (1000, 100)
    assert report["absolute_rate"] == pytest.approx(0.10)
    assert report["relative_rate"] == pytest.approx(0.02)
    assert report["reference_start"] == "2022-12-31" and report["reference_end"] == "2023-12-31"
    assert pl.read_csv(out).height == 100


def test_abc_with_tiers_x3(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rng = np.random.default_rng(3)
    ids = np.repeat(np.arange(1000), 2)
    log = tmp_path / "tx.csv"
    pl.DataFrame(
        {
            "customer_id": ids,
            "date": ["2024-05-01"] * len(ids),
            "amount": np.round(rng.lognormal(5, 1.2, len(ids)), 2),
            "cost": np.round(rng.uniform(0, 50, len(ids)), 2),
        }
    ).write_csv(log)
    out = tmp_path / "abc.csv"
    report = run_json(
        ["abc", "--transactions", str(log), "--cost-column", "cost", "--output", str(out)], capsys
    )
    assert report["value"] == "profit" and report["customers"] == 1000
    assert [t["customers"] for t in report["tiers"]["tiers"]] == [10, 40, 150, 800]
    assert [c["class"] for c in report["abc"]["classes"]] == ["A", "B", "C"]
    assert report["abc"]["classes"][0]["value_share"] <= 0.8
    assert len(report["pareto_curve"]["customer_share"]) == 101
    table = pl.read_csv(out)
    assert table.columns == [
        "customer_id",
        "transactions",
        "revenue",
        "cost",
        "profit",
        "abc_rank",
        "cumulative_share",
        "abc_class",
        "tier_rank",
        "tier",
    ]
    counted = run_json(
        ["abc", "--transactions", str(log), "--tier-basis", "count", "--tier-cuts", "0.1,0.2,0.5"],
        capsys,
    )
    assert [t["customers"] for t in counted["tiers"]["tiers"]] == [100, 100, 300, 500]


@pytest.mark.parametrize(
    ("content", "argv", "expected"),
    [
        (
            "customer_id,date,amount\n1,2024-01-01,5\n2,2024-01-02,five\n",
            ["rfm", "--as-of", "2024-02-01"],
            "column 'amount', line 3: 'five' is not a number",
        ),
        (
            "customer_id,date,amount\n1,2024-01-01,5\n",
            ["rfm", "--as-of", "2024-02-30"],
            "--as-of: '2024-02-30' is not a date",
        ),
        (
            "id,date,amount\n1,2024-01-01,5\n",
            ["churn-rate", "--start", "2024-01-01", "--end", "2024-02-01"],
            "column 'customer_id': no such column",
        ),
        (
            "customer_id,date,amount\n1,2024-01-01,5\n1,2024-01-01,7\n",
            ["clv", "--calibration-end", "2024-03-01"],
            "no customer has a repeat purchase",
        ),
    ],
)
def test_bad_input_exits_2_with_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], content: str, argv: list[str], expected: str
) -> None:
    log = tmp_path / "bad.csv"
    log.write_text(content)
    command = [argv[0], "--transactions", str(log), *argv[1:]]
    assert run(command) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in captured.err
    assert lines[0].startswith(f"guanxi analytics {argv[0]}: error: ")
    assert expected in lines[0]
    if "line" in expected or "column" in expected:
        assert str(log) in lines[0]


def test_analytics_without_a_command_prints_help(capsys: pytest.CaptureFixture[str]) -> None:
    assert run([]) == 2
    assert "rfm" in capsys.readouterr().out


def test_engine_and_cli_import_no_django() -> None:
    code = (
        "import sys, guanxi.analytics.cli, guanxi.analytics.engine; "
        "print(sorted(m for m in sys.modules if m.split('.')[0] == 'django'))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "[]"


def test_lifecycle(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    log = tmp_path / "tx.csv"
    rows = [
        "customer_id,date,amount",
        "new,2024-12-01,10",
        "gone,2023-01-05,10",
        "gone,2023-02-05,10",
        "twice,2024-10-01,5",
        "twice,2024-11-01,5",
    ]
    rows += [f"fan,{2023 + k // 12}-{k % 12 + 1:02d}-15,20" for k in range(18)]
    log.write_text("\n".join(rows) + "\n")
    out = tmp_path / "stages.csv"
    report = run_json(
        ["lifecycle", "--transactions", str(log), "--as-of", "2024-12-31", "--output", str(out)],
        capsys,
    )
    counts = {s["stage"]: s["customers"] for s in report["stages"]}
    assert counts == {"first_time": 1, "repeat": 1, "loyal": 1, "lost": 1}
    assert report["settings"]["lost_after_days"] == 365
    table = pl.read_csv(out)
    assert dict(zip(table["customer_id"], table["stage"], strict=True)) == {
        "fan": "loyal",
        "gone": "lost",
        "new": "first_time",
        "twice": "repeat",
    }
    assert table.columns == [
        "customer_id",
        "stage",
        "declining",
        "purchase_days",
        "frequency_trend",
        "spend_trend",
    ]


def test_unwritable_output_exits_1(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    log = tmp_path / "tx.csv"
    log.write_text("customer_id,date,amount\n1,2024-01-01,5\n")
    assert (
        run(
            [
                "rfm",
                "--transactions",
                str(log),
                "--as-of",
                "2024-02-01",
                "--output",
                str(tmp_path / "missing" / "out.csv"),
            ]
        )
        == 1
    )
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and "out.csv" in err


def test_clv_leaves_zero_spend_repeat_customers_out_of_gamma_gamma(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    frame = pl.read_csv(
        CDNOW_SAMPLE, has_header=False, separator="\x1f", new_columns=["line"]
    ).select(
        pl.col("line")
        .str.strip_chars()
        .str.split(" ")
        .list.eval(pl.element().filter(pl.element() != ""))
        .alias("f")
    )
    log = tmp_path / "free.csv"
    rows = frame.select(
        pl.col("f").list.get(1).alias("customer_id"),
        pl.col("f").list.get(2).str.to_date("%Y%m%d").alias("date"),
        pl.col("f").list.get(4).cast(pl.Float64).alias("amount"),
    )
    # Customer 0001's purchases after the first become free.
    rows = rows.with_columns(
        pl.when((pl.col("customer_id") == "0001") & (pl.col("date") > pl.date(1997, 1, 1)))
        .then(0.0)
        .otherwise(pl.col("amount"))
        .alias("amount")
    )
    rows.write_csv(log)
    out = tmp_path / "clv.csv"
    report = run_json(
        [
            "clv",
            "--transactions",
            str(log),
            "--calibration-end",
            "1997-09-30",
            "--output",
            str(out),
        ],
        capsys,
    )
    assert report["gamma_gamma"]["n"] == 945
    assert report["gamma_gamma"]["excluded_non_positive"] == 1
    table = pl.read_csv(out, schema_overrides={"customer_id": pl.String})
    first = table.filter(pl.col("customer_id") == "0001")
    assert first["monetary"][0] == 0.0 and first["clv"][0] > 0
