"""Alerts: one email to a connection's admins each time its problems change (credentials
refused, too many open Error Transactions, a schedule overdue, or all clear again), never one
per document. The task cluster runs `alerts_send` on a schedule (`ensure_schedules`)."""

import datetime as dt
import logging

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.core.mail import EmailMessage
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone

from .models import MonitorState
from .status import (
    CREDENTIALS,
    EXPORT_OVERDUE,
    OPEN_ERRORS,
    PAYMENTS_OVERDUE,
    ConnectionStatus,
    connections_status,
)

logger = logging.getLogger("intacct.monitoring")

# The roles that manage the company profile (accounting.roles) hold this permission.
ADMIN_PERMISSION = ("accounting", "manage_company_profile")
# Links in alert emails when LEDGERLINE_BASE_URL is not set: the development server (bin/run).
DEVELOPMENT_URL = "http://127.0.0.1:8000"
LABELS = {
    CREDENTIALS: "Sage Intacct refuses the credentials",
    OPEN_ERRORS: "too many open Error Transactions",
    EXPORT_OVERDUE: "the export is overdue",
    PAYMENTS_OVERDUE: "the payment import is overdue",
}
SUBJECT_PROBLEM = "Ledgerline: Sage Intacct for {subsidiary} needs attention: {labels}"
SUBJECT_CLEAR = "Ledgerline: Sage Intacct for {subsidiary} is working again"
FOOTER = (
    "Connection page: {page}\n\n"
    "You receive one email each time this connection's problems change, never one per document."
)
NO_RECIPIENTS = (
    "Alert for %s not emailed: no active user with an email address holds a role that "
    "manages the company profile (Admin, Partner Admin, Support). Give one an email address."
)


def alerts_send(*, now: dt.datetime | None = None) -> int:
    """Email each connection whose set of problems changed since its last alert. Returns how
    many emails were sent.

    1. Read every connection's status (`connections_status`).
    2. Skip a connection whose problems are those its admins were last told about.
    3. Claim the change with a conditional update of its MonitorState (two clusters running
       this at once send it once), then send; if sending fails, give the claim back so the
       next run tries again.
    """
    now = now or timezone.now()
    recipients: list[str] | None = None
    sent = 0
    for status in connections_status(now=now):
        codes = ",".join(status.problem_codes)
        state, _ = MonitorState.objects.get_or_create(connection_id=status.connection_id)
        if state.alerted == codes:
            continue
        claimed = MonitorState.objects.filter(pk=state.pk, alerted=state.alerted).update(
            alerted=codes, alerted_at=now
        )
        if not claimed:
            continue
        if recipients is None:
            recipients = admin_emails()
        if not recipients:
            logger.warning(NO_RECIPIENTS, status.subsidiary)
            continue
        try:
            alert_email(status, previous=state.alerted, recipients=recipients).send()
        except Exception:
            logger.exception("Alert email for %s could not be sent", status.subsidiary)
            MonitorState.objects.filter(pk=state.pk, alerted=codes).update(
                alerted=state.alerted, alerted_at=state.alerted_at
            )
            continue
        sent += 1
        logger.info("Alert emailed for %s: %s", status.subsidiary, codes or "all clear")
    return sent


def admin_emails() -> list[str]:
    """The email addresses of active users who manage the company profile (by role, directly,
    or as superusers), sorted."""
    app_label, codename = ADMIN_PERMISSION
    permission = Permission.objects.filter(
        content_type__app_label=app_label, codename=codename
    ).first()
    holds = Q(is_superuser=True)
    if permission is not None:
        holds |= Q(groups__permissions=permission) | Q(user_permissions=permission)
    users = get_user_model().objects.filter(holds, is_active=True).exclude(email="")
    return sorted(set(users.values_list("email", flat=True)))


def alert_email(status: ConnectionStatus, *, previous: str, recipients: list[str]) -> EmailMessage:
    """The one email for a change: every current problem with the link that fixes it, or the
    all clear naming what was resolved."""
    base = settings.LEDGERLINE_BASE_URL or DEVELOPMENT_URL
    who = f"{status.subsidiary} {status.subsidiary_name}"
    page = base + reverse("admin:intacct_connection_change", args=[status.connection_id])
    resolved = [c for c in previous.split(",") if c and c not in status.problem_codes]
    if status.problems:
        subject = SUBJECT_PROBLEM.format(
            subsidiary=who, labels="; ".join(LABELS[p.code] for p in status.problems)
        )
        lines = [f"Sage Intacct for {who} needs attention:", ""]
        for problem in status.problems:
            lines += [f"- {problem.message}", f"  Fix it here: {base}{problem.fix_url}", ""]
        if resolved:
            lines += ["Resolved since the last email: " + "; ".join(LABELS[c] for c in resolved)]
            lines.append("")
    else:
        subject = SUBJECT_CLEAR.format(subsidiary=who)
        lines = [
            f"Sage Intacct for {who} is working again. Resolved: "
            + "; ".join(LABELS[c] for c in resolved)
            + ".",
            "",
        ]
    lines.append(FOOTER.format(page=page))
    return EmailMessage(subject=subject, body="\n".join(lines), to=recipients)
