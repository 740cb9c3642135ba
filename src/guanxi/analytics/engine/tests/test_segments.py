import numpy as np

from guanxi.analytics.engine.segments import (
    clv_classes,
    customer_matrix,
    relationship_portfolio,
)


def test_clv_classes():
    current = [100, 10, 100, 10, 50]
    potential = [500, 500, 10, 10, 300]
    profit = [80, 5, 90, 5, -20]
    assert clv_classes(current, potential, profit).tolist() == [
        "vip", "improve", "maintain", "maintain", "abandon"]
    assert clv_classes([10], [-5], [1]).tolist() == ["abandon"]


def test_matrix_places_only_customers_with_cost():
    out = customer_matrix([100, 100, 10, 10, 5], [50, 5, 50, 5, 0])
    assert out.tolist() == ["I", "II", "III", "IV", ""]


def test_portfolio():
    out = relationship_portfolio([100, 100, 1, 1], np.array([True, False, True, False]))
    assert out.tolist() == ["premium", "fickle", "problem", "low"]
