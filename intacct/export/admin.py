"""The export's pages on the connection: Export now (what the schedule does, at once) and the
payload preview of any TMS document that exports (sends nothing)."""

from django.apps import apps
from django.conf import settings
from django.contrib import admin, messages
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.html import format_html, format_html_join
from django.views.decorators.http import require_POST

from intacct.client import errors
from intacct.connections.admin import NOT_SYNCING

from .documents import DOCUMENT_TYPES
from .documents.members import group_notes
from .preview import document_previews
from .run import ExportSummary
from .services import connection_export

EXPORT_NOW_DONE = (
    "Export to Sage Intacct: {created} created, {updated} updated, {reversed} reversed, "
    "{deleted} deleted, {failed} failed."
)
EXPORT_NOW_FAILED = "{failed} failed: see Error Transactions."
EXPORT_NOW_UNREACHABLE = "Sage Intacct could not be reached: {error}"
EXPORT_NOW_UNEXPECTED = (
    "{count} unexpected error(s): this is a defect, not your data; give support the reference."
)


class ExportPages:
    """Adds Export now and the payload previews to the connection's admin."""

    def connection_views(self) -> list[tuple]:
        return [
            *super().connection_views(),
            (require_POST(self.export_now), "export_now", "<int:pk>/export-now/"),
            (self.preview_load, "preview_load", "preview/load/<int:load_id>/"),
            (self.preview_document, "preview_document", "preview/<str:model>/<int:pk>/"),
        ]

    def export_now(self, request, pk):
        """Export the connection's ready documents now, as its schedule would."""
        connection = self._connection(pk)
        back = redirect("admin:intacct_connection_change", pk)
        if not connection.is_syncing:
            self.message_user(request, NOT_SYNCING, messages.WARNING)
            return back
        total = ExportSummary()
        try:
            summaries = connection_export(
                connection=connection, batch_size=settings.INTACCT_BATCH_SIZE
            )
        except errors.IntacctError as error:
            self.message_user(request, EXPORT_NOW_UNREACHABLE.format(error=error), messages.ERROR)
            return back
        for summary in summaries.values():
            total.add(summary)
        text = EXPORT_NOW_DONE.format(**vars(total))
        if total.errors:
            error = "; ".join(dict.fromkeys(total.errors))
            self.message_user(request, EXPORT_NOW_UNREACHABLE.format(error=error), messages.ERROR)
        if total.unexpected:
            self.message_user(
                request, EXPORT_NOW_UNEXPECTED.format(count=total.unexpected), messages.ERROR
            )
            for problem in total.unexpected_errors:
                self.message_user(request, problem, messages.ERROR)
        if total.failed:
            self.message_user(
                request,
                format_html(
                    '{} <a href="{}">{}</a>',
                    text,
                    reverse("admin:accounting_errortransaction_changelist"),
                    EXPORT_NOW_FAILED.format(failed=total.failed),
                ),
                messages.WARNING,
            )
        else:
            self.message_user(request, text, messages.SUCCESS)
        return back

    def preview_load(self, request, load_id):
        return self.preview_document(request, "load", load_id)

    def preview_document(self, request, model, pk):
        """What a TMS document would send to Sage, as each Sage document it becomes, with the
        resolution trail; sends nothing. `model`: load, trip, paystub, summaryinvoice, ..."""
        try:
            model_class = apps.get_model("accounting", model)
        except LookupError:
            raise Http404(f"No such document kind: {model}") from None
        if not any(t.model is model_class for t in DOCUMENT_TYPES.values()):
            raise Http404(f"{model_class._meta.verbose_name} does not export to Sage Intacct")
        doc = get_object_or_404(model_class, pk=pk)
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "doc_opts": model_class._meta,
            "doc": doc,
            "title": f"Sage payload preview: {model_class._meta.verbose_name} {doc}",
            "previews": document_previews(doc=doc),
        }
        return TemplateResponse(request, "admin/intacct/preview.html", context)


class GroupMembersLeftOut:
    """On a group document's page (summary invoice, settlement; `document_type` set by the
    admin): the members its Sage document leaves out because they are in Sage on their own."""

    document_type = ""

    def get_readonly_fields(self, request, obj=None):
        fields = list(super().get_readonly_fields(request, obj))
        return [*fields, "members_left_out"] if obj is not None else fields

    @admin.display(description="Billed on their own in Sage Intacct")
    def members_left_out(self, obj):
        related = DOCUMENT_TYPES[self.document_type].members
        notes = group_notes(
            document_type=self.document_type, group_doc=obj, members=getattr(obj, related).all()
        )
        if not notes:
            return "—"
        return format_html(
            "<ul>{}</ul>", format_html_join("", "<li>{}</li>", ((n,) for n in notes))
        )
