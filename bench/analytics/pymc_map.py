"""pymc-marketing's MAP fits of BG/NBD and Gamma-Gamma on a calibration summary, for
bench/analytics/run.py.

pymc-marketing pins a numpy older than Guanxi's, so it lives in its own environment
(``make bench-pymc`` makes ``.venv-pymc``); run.py writes the summary it fitted itself to a
Parquet file and runs this script with that environment's interpreter. Prints one JSON line:
wall and CPU seconds of each fit (model building and compilation included, as a user pays
them) and the MAP parameters. MAP maximises the posterior under pymc-marketing's default
priors, so its parameters differ from the maximum-likelihood ones.

    .venv-pymc/bin/python bench/analytics/pymc_map.py bench/out/summary.parquet
"""

from __future__ import annotations

import json
import sys
import time


def timed(fn):
    wall, cpu = time.perf_counter(), time.process_time()
    out = fn()
    return time.perf_counter() - wall, time.process_time() - cpu, out


def main(path: str) -> None:
    import pandas as pd
    import pymc_marketing
    from pymc_marketing.clv import BetaGeoModel, GammaGammaModel

    summary = pd.read_parquet(path)
    data = pd.DataFrame({"customer_id": summary["customer_id"], "frequency": summary["x"],
                         "recency": summary["t_x"], "T": summary["T"]})
    bg = BetaGeoModel()
    bg_wall, bg_cpu, _ = timed(lambda: bg.fit(data, method="map", progressbar=False))
    repeat = summary[summary["x"] > 0]
    spend = pd.DataFrame({"customer_id": repeat["customer_id"], "frequency": repeat["x"],
                          "monetary_value": repeat["monetary"]})
    gg = GammaGammaModel()
    gg_wall, gg_cpu, _ = timed(lambda: gg.fit(spend, method="map", progressbar=False))

    def params(model, names):
        post = model.idata.posterior
        return {n: float(post[n].values.ravel()[0]) for n in names if n in post}

    print(json.dumps({
        "version": pymc_marketing.__version__,
        "bgnbd": {"wall": bg_wall, "cpu": bg_cpu,
                  "params": params(bg, ["r", "alpha", "a", "b"])},
        "gamma_gamma": {"wall": gg_wall, "cpu": gg_cpu,
                        "params": params(gg, ["p", "q", "v"])},
    }))


if __name__ == "__main__":
    main(sys.argv[1])
