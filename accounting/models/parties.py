"""Customers, carriers and drivers, and the Sage IDs they carry per subsidiary."""

from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q

from .base import TimeStamped
from .organization import Subsidiary


class Party(TimeStamped):
    name = models.CharField(max_length=120, db_index=True)
    email = models.EmailField(blank=True)
    phone = models.CharField(max_length=40, blank=True)
    is_active = models.BooleanField(default=True)

    class Meta:
        abstract = True
        ordering = ["name"]

    def __str__(self):
        return self.name

    def external_accounting_id(self, subsidiary) -> str | None:
        """The Sage ID this party carries for `subsidiary`, or None. Uses prefetched IDs if any."""
        for row in self.external_ids.all():
            if row.subsidiary_id == subsidiary.pk:
                return row.external_id
        return None


class Customer(Party):
    """A customer or broker: the party an AR invoice is addressed to."""

    address = models.CharField(max_length=200, blank=True)
    city = models.CharField(max_length=80, blank=True)
    state = models.CharField(max_length=40, blank=True)
    postal_code = models.CharField(max_length=20, blank=True)

    class Meta(Party.Meta):
        pass


class Carrier(Party):
    mc_number = models.CharField("MC number", max_length=20, blank=True)
    dot_number = models.CharField("DOT number", max_length=20, blank=True)

    class Meta(Party.Meta):
        pass


class Driver(Party):
    class DriverType(models.TextChoices):
        COMPANY_DRIVER = "company_driver", "Company driver"
        OWNER_OPERATOR = "owner_operator", "Owner operator"

    class ContractorType(models.TextChoices):
        W2 = "W2", "W-2 employee"
        C1099 = "1099", "1099 contractor"
        LEASE = "LEASE", "Lease operator"

    subsidiary = models.ForeignKey(Subsidiary, on_delete=models.PROTECT, related_name="drivers")
    driver_type = models.CharField(max_length=20, choices=DriverType.choices)
    contractor_type = models.CharField(max_length=10, choices=ContractorType.choices, blank=True)
    carrier = models.ForeignKey(
        Carrier, on_delete=models.SET_NULL, null=True, blank=True, related_name="drivers"
    )

    class Meta(Party.Meta):
        pass


class ExternalAccountingId(models.Model):
    """A party's Sage Customer ID / Vendor ID for one subsidiary (IDs are subsidiary-specific).

    Carriers and drivers are both Sage vendors, so an ID is unique within a subsidiary among
    customers, and among carriers and drivers together.
    """

    class Namespace(models.TextChoices):
        CUSTOMER = "customer", "Customer"
        VENDOR = "vendor", "Vendor"

    subsidiary = models.ForeignKey(
        Subsidiary, on_delete=models.CASCADE, related_name="external_accounting_ids"
    )
    customer = models.ForeignKey(
        Customer, on_delete=models.CASCADE, null=True, blank=True, related_name="external_ids"
    )
    carrier = models.ForeignKey(
        Carrier, on_delete=models.CASCADE, null=True, blank=True, related_name="external_ids"
    )
    driver = models.ForeignKey(
        Driver, on_delete=models.CASCADE, null=True, blank=True, related_name="external_ids"
    )
    namespace = models.CharField(max_length=10, choices=Namespace.choices, editable=False)
    external_id = models.CharField("External Accounting ID", max_length=40)

    class Meta:
        verbose_name = "External Accounting ID"
        constraints = [
            models.CheckConstraint(
                name="external_id_exactly_one_party",
                condition=(
                    Q(customer__isnull=False, carrier__isnull=True, driver__isnull=True)
                    | Q(customer__isnull=True, carrier__isnull=False, driver__isnull=True)
                    | Q(customer__isnull=True, carrier__isnull=True, driver__isnull=False)
                ),
            ),
            models.UniqueConstraint(
                fields=["subsidiary", "customer"], name="one_external_id_per_customer"
            ),
            models.UniqueConstraint(
                fields=["subsidiary", "carrier"], name="one_external_id_per_carrier"
            ),
            models.UniqueConstraint(
                fields=["subsidiary", "driver"], name="one_external_id_per_driver"
            ),
            models.UniqueConstraint(
                fields=["subsidiary", "namespace", "external_id"],
                name="external_id_unique_in_subsidiary",
            ),
        ]

    def __str__(self):
        return f"{self.external_id} ({self.subsidiary})"

    def save(self, *args, **kwargs):
        self.namespace = self.Namespace.CUSTOMER if self.customer_id else self.Namespace.VENDOR
        super().save(*args, **kwargs)

    @property
    def party(self):
        return self.customer or self.carrier or self.driver

    def clean(self):
        parties = [p for p in (self.customer_id, self.carrier_id, self.driver_id) if p]
        if len(parties) != 1:
            raise ValidationError("Choose exactly one customer, carrier or driver for this ID.")
        self.external_id = (self.external_id or "").strip()
        if not self.subsidiary_id or not self.external_id:
            return
        namespace = self.Namespace.CUSTOMER if self.customer_id else self.Namespace.VENDOR
        clash = (
            ExternalAccountingId.objects.filter(
                subsidiary_id=self.subsidiary_id,
                namespace=namespace,
                external_id__iexact=self.external_id,
            )
            .exclude(pk=self.pk)
            .select_related("customer", "carrier", "driver", "subsidiary")
            .first()
        )
        if clash:
            kind = "customer" if clash.customer_id else "carrier" if clash.carrier_id else "driver"
            raise ValidationError(
                {
                    "external_id": DUPLICATE_EXTERNAL_ID.format(
                        external_id=self.external_id,
                        kind=kind,
                        party=clash.party,
                        subsidiary=clash.subsidiary,
                    )
                }
            )


DUPLICATE_EXTERNAL_ID = (
    "External Accounting ID {external_id} is already used by {kind} {party} in subsidiary "
    "{subsidiary}. Each Sage ID can belong to one party per subsidiary: correct one of them."
)
