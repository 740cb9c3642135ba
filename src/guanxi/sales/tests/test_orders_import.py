"""Bulk order import: API batches (created, skipped, errors) and CSV jobs (errors with line
and column, batches, resume after a crash without duplicates or gaps)."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal

import pytest

from guanxi.core.exceptions import NotFound, ValidationError
from guanxi.core.models import AuditRecord, JobRun
from guanxi.customers.tests.factories import customer
from guanxi.sales.models import ImportBatch, Order, OrderLine
from guanxi.sales.queries import orders as queries
from guanxi.sales.services import fx
from guanxi.sales.services import orders as services

pytestmark = pytest.mark.django_db

D = Decimal
HEADER = ("source,external_id,customer_id,customer_phone,ordered_at,currency,status,"
          "payment_status,sku,description,quantity,unit_price,tax_rate,unit_cost\n")


@pytest.fixture
def world(actors):
    return {
        "mine": customer(actors["sales1"], "张三", phone="13812345678"),
        "teammate": customer(actors["sales1b"], "李四"),
        "other": customer(actors["sales2"], "王五"),
    }


def order(cid, ext, *, lines=2, source="shop", **kw):
    return {"source": source, "external_id": ext, "customer_id": cid,
            "ordered_at": dt.datetime(2025, 6, 18, 10, 0),
            "lines": [{"sku": f"S-{i}", "description": "商品", "quantity": D("1"),
                       "unit_price": D("10.00"), "tax_rate": D("0.13")}
                      for i in range(lines)], **kw}


# API batches -----------------------------------------------------------------------------

def test_import_creates_then_skips_on_resend(actors, world, events,
                                             django_capture_on_commit_callbacks):
    rows = [order(world["mine"].pk, f"T-{i}") for i in range(5)]
    with django_capture_on_commit_callbacks(execute=True):
        first = services.orders_import(actor=actors["sales1"], rows=rows, batch_size=2)
    assert (first.created, first.skipped, first.errors) == (5, 0, [])
    assert [r["status"] for r in first.results] == ["created"] * 5
    assert Order.objects.count() == 5 and OrderLine.objects.count() == 10
    # One audit record per order, through the actor's channel.
    recs = AuditRecord.objects.filter(model="sales.order", action="create")
    assert recs.count() == 5 and {r.customer_id for r in recs} == {world["mine"].pk}
    # One event per batch (2 + 2 + 1 orders).
    batches = [p["order_ids"] for n, p in events if n == "sales.orders_imported"]
    assert [len(b) for b in batches] == [2, 2, 1]
    again = services.orders_import(actor=actors["sales1"],
                                   rows=rows + [order(world["mine"].pk, "T-9")])
    assert (again.created, again.skipped) == (1, 5)
    assert Order.objects.count() == 6 and AuditRecord.objects.filter(
        model="sales.order").count() == 6
    # The same order twice in one request counts once; another source is another order.
    dup = services.orders_import(actor=actors["sales1"], rows=[
        order(world["mine"].pk, "N-1"), order(world["mine"].pk, "N-1"),
        order(world["mine"].pk, "N-1", source="erp")])
    assert (dup.created, dup.skipped) == (2, 1)


def test_import_reports_errors_per_order_and_writes_the_rest(actors, world):
    rows = [order(world["mine"].pk, "A-1"),
            order(world["other"].pk, "A-2"),  # another team's customer: unknown to sales1
            order(world["teammate"].pk, "A-3"),  # visible, but not within the add scope
            {"source": "shop", "external_id": "A-4", "customer_id": world["mine"].pk,
             "ordered_at": "2025-13-01", "lines": [{"quantity": "x", "unit_price": 1}]},
            order(None, "A-5", customer_phone="138 1234 5678")]
    result = services.orders_import(actor=actors["sales1"], rows=rows)
    assert (result.created, result.skipped) == (2, 0)
    errors = {e["index"]: e["errors"] for e in result.errors}
    assert errors[1] == {"customer_id": ["No such customer."]}
    assert errors[2] == {"customer_id": ["You may not add orders for this customer."]}
    assert set(errors[3]) == {"ordered_at", "lines.0.quantity"}
    assert Order.objects.get(external_id="A-5").customer_id == world["mine"].pk
    with pytest.raises(ValidationError) as exc:
        services.orders_import(actor=actors["sales1"], rows=rows, atomic=True)
    assert "orders.1.customer_id" in exc.value.message_dict


def test_a_writer_losing_the_race_for_numbers_tries_again(actors, world, monkeypatch):
    services.orders_import(actor=actors["sales1"], rows=[order(world["mine"].pk, "R-1")])
    taken = Order.objects.get().number
    real = queries.last_number_seq
    calls = []

    def stale(stem, *, thorough=False):  # as if another writer took the numbers meanwhile
        calls.append(thorough)
        return 0 if not thorough else real(stem, thorough=True)

    monkeypatch.setattr(queries, "last_number_seq", stale)
    result = services.orders_import(actor=actors["sales1"], rows=[
        order(world["mine"].pk, "R-2"), order(world["mine"].pk, "R-3")])
    assert (result.created, calls) == (2, [False, True])
    numbers = sorted(Order.objects.values_list("number", flat=True))
    assert numbers[0] == taken and len(set(numbers)) == 3
    assert OrderLine.objects.count() == 6


def test_imported_orders_keep_their_currency(actors, world):
    fx.exchange_rate_set(actor=actors["admin"], currency="EUR", valid_from=dt.date(2020, 1, 1),
                         rate=D("7.8"))
    services.orders_import(actor=actors["sales1"], rows=[
        order(world["mine"].pk, f"C-{i}", currency=c) for i, c in
        enumerate(["EUR", "CNY", "EUR"])])
    assert list(Order.objects.order_by("external_id").values_list("currency", "total_cny")) \
        == [("EUR", D("176.28")), ("CNY", D("22.60")), ("EUR", D("176.28"))]


# CSV jobs --------------------------------------------------------------------------------

def csv_of(world, n_orders=7, lines_per=3) -> bytes:
    rows = []
    for i in range(n_orders):
        for j in range(lines_per):
            rows.append(f"erp,E{i:04d},{world['mine'].pk},,2025-06-{1 + i % 28:02d} 10:00,CNY,"
                        f"completed,paid,SKU-{j},\"商品, 第{j}件\",{j + 1},19.90,13%,10\n")
    return (HEADER + "".join(rows)).encode()


def run(actor, content, **kw):
    job = services.order_import_job_create(actor=actor, content=content, filename="o.csv",
                                           enqueue=False, **kw)
    return job, services.order_import_job_run(actor=actor, job_id=job.pk)


def test_csv_import_in_batches(actors, world):
    job, result = run(actors["sales1"], csv_of(world), batch_size=3)
    assert result["status"] == "done"
    job.refresh_from_db()
    assert (job.status, job.done, job.total, job.cursor) == ("done", 21, 21, "2")
    assert "data" not in job.params and job.actor.username == "sales1"
    assert list(ImportBatch.objects.filter(job=job).values_list("batch_no", "created")) == \
        [(0, 3), (1, 3), (2, 1)]
    assert Order.objects.count() == 7 and OrderLine.objects.count() == 21
    o = Order.objects.get(external_id="E0000")
    assert (o.status, o.payment_status, o.total) == ("completed", "paid", D("134.92"))
    assert o.ordered_at == dt.datetime(2025, 6, 1, 2, 0, tzinfo=dt.UTC)  # 10:00 in Shanghai
    assert list(o.lines.values_list("description", flat=True)) == ["商品, 第0件", "商品, 第1件",
                                                                   "商品, 第2件"]
    assert AuditRecord.objects.filter(model="sales.order", channel="web").count() == 7
    progress = queries.import_job_get(actor=actors["sales1"], job_id=job.pk)
    assert (progress.created, progress.skipped, progress.percent) == (7, 0, 100)
    # The same file again: every order is skipped.
    job2, _r = run(actors["sales1"], csv_of(world))
    assert queries.import_job_get(actor=actors["sales1"], job_id=job2.pk).skipped == 7
    assert Order.objects.count() == 7


def test_csv_errors_name_line_and_column_and_import_nothing(actors, world):
    content = (HEADER
               + f"erp,E1,{world['mine'].pk},,2025-06-01,CNY,,,A,,1,10,0.13,\n"
               + f"erp,E1,{world['mine'].pk},,2025-06-01,USD,,,B,,0,1.234,0.13,\n"
               + f"erp,E2,{world['other'].pk},,2025/6/2 9:30,CNY,,,A,,1,10,,\n"
               + "erp,E3,,13812345678,2025-06-03,CNY,lost,,A,,1,10,,\n"
               + f"erp,E4,{world['mine'].pk},,someday,CNY,,,,,1,10,,\n"
               + "erp,E5,,13999999999,2025-06-03,CNY,,,A,,1,10,,\n"
               + f"erp,E1,{world['mine'].pk},,2025-06-01,CNY,,,C,,1,10,0.13,\n").encode()
    job, result = run(actors["sales1"], content)
    assert result["status"] == "failed"
    found = {(e["line"], e["column"]) for e in result["errors"]}
    assert found == {
        (3, "currency"),  # differs from the order's first line
        (3, "quantity"), (3, "unit_price"),
        (4, "customer_id"),  # not visible to sales1
        (5, "status"),
        (6, "ordered_at"), (6, "description"),
        (7, "customer_phone"),  # nobody sales1 can see has this number
        (8, "external_id"),  # the order's lines must follow each other
    }
    assert not Order.objects.exists()
    job.refresh_from_db()
    assert job.status == "failed" and job.total == 7
    saved = json.loads(job.error)
    assert saved[0] == {"line": 3, "column": "currency",
                        "message": "Differs from line 2, this order's first line."}
    assert queries.import_job_get(actor=actors["sales1"], job_id=job.pk).resumable is False


@pytest.mark.parametrize(("content", "line", "column"), [
    (b"", None, "file"),
    (b"source,external_id,customer_id,quantiy,unit_price,ordered_at\n", 1, "quantiy"),
    (b"source,external_id,customer_id,quantity,ordered_at\n", 1, "unit_price"),
    (b"source,external_id,quantity,unit_price,ordered_at\nerp,1,1,1,2025-01-01\n", 1,
     "customer_id"),
    (b"source,external_id,customer_id,quantity,unit_price,ordered_at\nerp,1,1,1\n", 2, None),
    (b"source,external_id,customer_id,quantity,unit_price,ordered_at\n\xff\xfe\xfa,1\n", 1,
     None),
])
def test_csv_file_level_problems(actors, content, line, column):
    if not content:
        with pytest.raises(ValidationError) as exc:
            run(actors["sales1"], content)
        assert "file" in exc.value.message_dict
        return
    _job, result = run(actors["sales1"], content)
    assert result["status"] == "failed"
    assert (result["errors"][0]["line"], result["errors"][0]["column"]) == (line, column)


def test_csv_in_gb18030_with_bom_free_chinese_header_values(actors, world):
    text = (HEADER + f"门店,单-1,{world['mine'].pk},,2025-06-01,CNY,,,茶,龙井茶,2,88,0.13,\n")
    _job, result = run(actors["sales1"], text.encode("gb18030"))
    assert result["status"] == "done"
    o = Order.objects.get()
    assert (o.source, o.external_id, o.lines.get().description) == ("门店", "单-1", "龙井茶")
    bom = ("\ufeff" + text.replace("单-1", "单-2")).encode("utf-8")
    _job, result = run(actors["sales1"], bom)
    assert result["status"] == "done" and Order.objects.count() == 2


def test_csv_resumes_after_a_crash_without_duplicates_or_gaps(actors, world, monkeypatch):
    real = services._write_batch
    calls = {"n": 0}

    def crash_on_third(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 3:
            raise RuntimeError("worker lost")
        return real(*args, **kwargs)

    monkeypatch.setattr(services, "_write_batch", crash_on_third)
    job = services.order_import_job_create(actor=actors["sales1"], content=csv_of(world, 10),
                                           batch_size=2, enqueue=False)
    with pytest.raises(RuntimeError):
        services.order_import_job_run(actor=actors["sales1"], job_id=job.pk)
    job.refresh_from_db()
    # Two whole batches committed, the third left nothing behind.
    assert (job.status, job.done, job.cursor) == ("failed", 12, "1")
    assert Order.objects.count() == 4 and OrderLine.objects.count() == 12
    progress = queries.import_job_get(actor=actors["sales1"], job_id=job.pk)
    assert progress.resumable and "worker lost" in progress.errors[0]["message"]
    monkeypatch.setattr(services, "_write_batch", real)
    services.order_import_job_resume(actor=actors["sales1"], job_id=job.pk)
    services.order_import_job_run(actor=actors["sales1"], job_id=job.pk)
    job.refresh_from_db()
    assert (job.status, job.done, job.total) == ("done", 30, 30)
    assert sorted(Order.objects.values_list("external_id", flat=True)) == \
        [f"E{i:04d}" for i in range(10)]
    assert OrderLine.objects.count() == 30
    assert list(ImportBatch.objects.filter(job=job).values_list("batch_no", flat=True)) == \
        [0, 1, 2, 3, 4]
    assert AuditRecord.objects.filter(model="sales.order").count() == 10
    # Running a finished job again changes nothing.
    assert services.order_import_job_run(actor=actors["sales1"], job_id=job.pk)["status"] \
        == "done"
    assert Order.objects.count() == 10


def test_a_batch_already_committed_is_never_written_twice(actors, world):
    job = services.order_import_job_create(actor=actors["sales1"], content=csv_of(world, 4),
                                           batch_size=2, enqueue=False)
    services.order_import_job_run(actor=actors["sales1"], job_id=job.pk)
    # A second worker racing on the same job finds each batch done and writes nothing.
    JobRun.objects.filter(pk=job.pk).update(status="running")
    created, skipped = services._write_batch(actors["sales1"], [], job_id=job.pk, batch_no=0)
    assert (created, skipped) == ([], [])
    assert ImportBatch.objects.filter(job=job).count() == 2


def test_import_jobs_belong_to_their_user(actors, world):
    job, _r = run(actors["sales1"], csv_of(world, 1))
    with pytest.raises(NotFound):
        queries.import_job_get(actor=actors["sales2"], job_id=job.pk)
    assert queries.import_job_get(actor=actors["admin"], job_id=job.pk).job.pk == job.pk


def test_the_task_runs_the_job(actors, world, settings, django_capture_on_commit_callbacks):
    settings.TASKS = {"default": {"BACKEND": "django.tasks.backends.immediate.ImmediateBackend"}}
    with django_capture_on_commit_callbacks(execute=True):
        job = services.order_import_job_create(actor=actors["sales1"],
                                               content=csv_of(world, 3))
    job.refresh_from_db()
    assert job.status == "done" and Order.objects.count() == 3
    # Orders imported by the task are audited through the import channel.
    assert set(AuditRecord.objects.filter(model="sales.order").values_list(
        "channel", flat=True)) == {"import"}
