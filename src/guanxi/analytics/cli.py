"""``guanxi analytics ...``: the pure engine on a transactions file (no Django)."""

from __future__ import annotations

import argparse


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser("analytics", help="customer-value analytics on a transactions file")
    p.set_defaults(func=lambda args: p.print_help() or 2)
