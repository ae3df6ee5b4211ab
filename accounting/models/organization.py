"""The organisation: subsidiaries (one Sage entity each), their offices and fleets."""

from django.db import models

from .base import TimeStamped


class Subsidiary(TimeStamped):
    """A TMS subsidiary: the unit that connects to one Sage Intacct entity."""

    code = models.CharField(max_length=20, unique=True)
    name = models.CharField(max_length=120, unique=True)
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["name"]
        verbose_name_plural = "subsidiaries"
        permissions = [
            ("manage_company_profile", "Can manage the company profile (Sage Intacct connections)"),
            ("billing", "Can manage billing (Error Transactions)"),
        ]

    def __str__(self):
        return self.name


class Office(models.Model):
    subsidiary = models.ForeignKey(Subsidiary, on_delete=models.CASCADE, related_name="offices")
    name = models.CharField(max_length=80)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(
                fields=["subsidiary", "name"], name="office_unique_per_subsidiary"
            )
        ]

    def __str__(self):
        return self.name


class Fleet(models.Model):
    subsidiary = models.ForeignKey(Subsidiary, on_delete=models.CASCADE, related_name="fleets")
    name = models.CharField(max_length=80)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(
                fields=["subsidiary", "name"], name="fleet_unique_per_subsidiary"
            )
        ]

    def __str__(self):
        return self.name
