"""Money, timestamps, and the lines and totals every document is built from."""

from decimal import ROUND_HALF_UP, Decimal

from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import Case, DecimalField, F, Sum, Value, When
from django.db.models.functions import Coalesce

CENT = Decimal("0.01")
ZERO = Decimal("0.00")
NON_NEGATIVE = [MinValueValidator(Decimal("0"), message="Enter zero or a positive number.")]


def money(value) -> Decimal:
    """Round a Decimal (or a string) to cents, half up, the way the invoice shows it."""
    return Decimal(value).quantize(CENT, rounding=ROUND_HALF_UP)


def money_field(**kwargs) -> DecimalField:
    return DecimalField(max_digits=14, decimal_places=2, **kwargs)


class TimeStamped(models.Model):
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(auto_now=True, db_index=True)

    class Meta:
        abstract = True


class LineKind:
    """A line with a `kind`; kinds in CREDIT_KINDS count negatively in the document total."""

    CREDIT_KINDS: frozenset[str] = frozenset()

    def __str__(self):
        return f"{self.get_kind_display()} {self.amount}"

    @property
    def is_credit(self) -> bool:
        return self.kind in self.CREDIT_KINDS

    @property
    def signed_amount(self) -> Decimal:
        return -self.amount if self.is_credit else self.amount


class ChargeLine(LineKind, models.Model):
    """A priced line. `amount` = quantity x rate, rounded to cents when saved."""

    CREDIT_KINDS: frozenset[str] = frozenset()

    item_code = models.CharField(max_length=30, blank=True, help_text="e.g. DETENTION, LUMPER")
    description = models.CharField(max_length=200, blank=True)
    quantity = models.DecimalField(
        max_digits=12, decimal_places=3, default=Decimal("1"), validators=NON_NEGATIVE
    )
    rate = models.DecimalField(max_digits=14, decimal_places=4, validators=NON_NEGATIVE)
    amount = money_field(editable=False)

    class Meta:
        abstract = True

    def save(self, *args, **kwargs):
        self.amount = money(Decimal(self.quantity) * Decimal(self.rate))
        super().save(*args, **kwargs)


class AmountLine(LineKind, models.Model):
    """An unpriced line (pay, deductions): just an amount, never negative."""

    CREDIT_KINDS: frozenset[str] = frozenset()

    item_code = models.CharField(max_length=30, blank=True)
    description = models.CharField(max_length=200, blank=True)
    amount = money_field(validators=NON_NEGATIVE)

    class Meta:
        abstract = True


def signed_total(lines: str, credit_kinds) -> Coalesce:
    """An aggregate: the sum of `lines`' amounts with credit kinds counted negatively."""
    return Coalesce(
        Sum(
            Case(
                When(**{f"{lines}__kind__in": list(credit_kinds)}, then=-F(f"{lines}__amount")),
                default=F(f"{lines}__amount"),
                output_field=money_field(),
            )
        ),
        Value(ZERO),
        output_field=money_field(),
    )


class TotalsQuerySet(models.QuerySet):
    """Documents annotate `total` from their lines in one query (`.with_totals()`)."""

    lines_name = "lines"

    def with_totals(self):
        credit_kinds = self.model._meta.get_field(self.lines_name).related_model.CREDIT_KINDS
        return self.annotate(total=signed_total(self.lines_name, credit_kinds))


class TotalFromLines:
    """`document.total`: the annotation when present, else summed from its lines."""

    def _lines_total(self) -> Decimal:
        return sum((line.signed_amount for line in self.lines.all()), ZERO)

    def get_total(self) -> Decimal:
        # SQLite hands back sums unquantized (1234.5): round once here, for every backend.
        annotated = self.__dict__.get("total")
        return money(annotated if annotated is not None else self._lines_total())
