"""The CSV export of a run (exact columns of the spec)."""

import csv

from .models import ClientSegment, SegmentRun

COLUMNS = (
    "client_no", "as_of", "avg_equity", "fund_tier", "activity_class", "value_class",
    "annual_net_fee", "rfm_r", "rfm_f", "rfm_m", "clv", "tenure", "purpose", "loyal",
    "max_risk_degree", "margin_call_days", "forced_liquidations", "var95", "quant_class",
)


def _money(value) -> str:
    return "" if value is None else f"{value:.2f}"


def _int(value) -> str:
    return "" if value is None else str(value)


def write_csv(out, *, run: SegmentRun, clients=None) -> int:
    """Write the run's rows (optionally only `clients`, a queryset) and return the count."""
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(COLUMNS)
    qs = ClientSegment.objects.filter(run=run).select_related("client").order_by("client__client_no")
    if clients is not None:
        qs = qs.filter(client__in=clients)
    n = 0
    for seg in qs.iterator(chunk_size=2000):
        writer.writerow([
            seg.client.client_no, seg.as_of.isoformat(), _money(seg.avg_equity), seg.fund_tier,
            seg.activity_class, seg.value_class, _money(seg.annual_net_fee), _int(seg.rfm_r),
            _int(seg.rfm_f), _int(seg.rfm_m), _money(seg.clv), seg.tenure, seg.purpose,
            "true" if seg.loyal else "false", f"{seg.max_risk_degree:.4f}",
            seg.margin_call_days, seg.forced_liquidations, _money(seg.var95), seg.quant_class,
        ])
        n += 1
    return n
