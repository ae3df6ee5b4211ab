"""The peer in the same run (`benchmarks/run --peer`): the same kind of documents sent through
fylein's `sageintacctsdk` (PyPI; `pip install -e ".[bench]"`), one call per document, the way
that open-source integration sends AR invoices and AP bills, against the same in-process
sandbox with the same latency.

The peer has no TMS of its own: each document's payload is built by Ledgerline's resolver
(`document_function`, the same XML Ledgerline sends), handed to the SDK as the dict it takes
(`ar_invoices.post` for `create_invoice`, `bills.post` for `create` APBILL), and the SDK builds
and sends the request. What is compared is the transport: requests, wall time, own time (wall
less the sandbox's work) and CPU per document. The peer keeps no ledger, so its CPU is a floor
of what an integration built on it would spend.
"""

import xml.etree.ElementTree as ET

PEER_HOST = "https://api.intacct.com"  # the SDK's gateway URL, answered by the sandbox here


def peer_scenario(args, sandbox, connection, ledgerline_row, rows, targets) -> None:
    """Send `args.peer_loads` loads and `args.peer_trips` trips of `connection` (documents of
    their own, numbered P…) through the SDK; add its row and the side-by-side comparison."""
    try:
        from sageintacctsdk import SageIntacctSDK
        from sageintacctsdk.exceptions import SageIntacctSDKError
    except ImportError:
        raise SystemExit(
            "--peer needs fylein's sageintacctsdk: install the benchmark extra with "
            '.venv/bin/pip install -e ".[bench]"'
        ) from None
    import xmltodict
    from django.conf import settings

    from accounting import demo_data
    from benchmarks import data
    from benchmarks.harness import measure
    from benchmarks.performance import Target, say
    from intacct.connections.sage import client_for
    from intacct.export import DOCUMENT_TYPES, document_function, run_data

    documents = args.peer_loads + args.peer_trips
    say(f"Writing {documents:,} documents for the peer ...")
    data.documents_create(connection, loads=args.peer_loads, trips=args.peer_trips, prefix="P")
    resolving = run_data(connection, client_for(connection), dry_run=True)
    resolving.sage_terms("APTERM")  # read once, as Ledgerline's run does
    label = f"6 peer: sageintacctsdk, {documents:,} documents, one call each"
    say(f"{label} ...")
    sandbox.aliases.add(PEER_HOST)
    sent = failed = 0
    with measure(sandbox, label, documents) as row:
        sdk = SageIntacctSDK(
            sender_id=settings.INTACCT_SENDER_ID,
            sender_password=settings.INTACCT_SENDER_PASSWORD,
            user_id=demo_data.SAGE_USER_ID,
            company_id=demo_data.SAGE_COMPANY_ID,
            user_password=demo_data.SAGE_USER_PASSWORD,
            entity_id=connection.location_id or None,
        )
        for document_type, count in (("load", args.peer_loads), ("trip", args.peer_trips)):
            kind = DOCUMENT_TYPES[document_type]
            docs = kind.ready(connection=connection).filter(number__startswith="P")
            for doc in docs.order_by("pk")[:count].iterator(chunk_size=200):
                function = document_function(
                    data=resolving, document_type=document_type, doc=doc, controlid="peer"
                )
                body = xmltodict.parse(ET.tostring(function.body))
                try:
                    if document_type == "load":
                        sdk.ar_invoices.post(body["create_invoice"])
                    else:
                        sdk.bills.post(body["create"]["APBILL"])
                    sent += 1
                except SageIntacctSDKError:
                    failed += 1
    row.extra = {"created": sent, "failed": failed}
    rows.append(row)
    targets.append(
        Target(
            sent == documents and not failed,
            f"peer: every document created through sageintacctsdk ({sent:,} created, "
            f"{failed} failed, {row.requests:,} requests)",
        )
    )
    args.notes += comparison(args, ledgerline_row, row)


def comparison(args, ours, peer) -> list[str]:
    """Ledgerline's export and the peer's, per document, side by side, with the ratios."""

    def per_doc(row):
        n = row.documents or 1
        return {
            "requests": row.requests / n,
            "wall ms": row.wall_s * 1000 / n,
            "own ms": row.own_s * 1000 / n,
            "CPU ms": row.cpu_s * 1000 / n,
        }

    a, b = per_doc(ours), per_doc(peer)
    lines = [
        f"Side by side, per document (+{args.latency_ms} ms per request; Ledgerline "
        f"{ours.documents:,} documents in {ours.requests:,} requests, the peer "
        f"{peer.documents:,} in {peer.requests:,}):",
        f"  {'':<10} {'Ledgerline':>12} {'sageintacctsdk':>15} {'peer / Ledgerline':>18}",
    ]
    for name in a:
        ratio = b[name] / a[name] if a[name] else float("inf")
        lines.append(f"  {name:<10} {a[name]:>12.3f} {b[name]:>15.3f} {ratio:>17.1f}x")
    total = peer.wall_s / (ours.wall_s / ours.documents * peer.documents)
    lines.append(
        f"  for the peer's {peer.documents:,} documents: Ledgerline ~"
        f"{ours.own_s / ours.documents * peer.documents:.1f} s own, the peer {peer.own_s:.1f} s "
        f"own; wall {total:.1f}x"
    )
    return lines
