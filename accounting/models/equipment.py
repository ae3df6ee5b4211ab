"""Trucks and trailers."""

from django.db import models

from .organization import Fleet, Subsidiary


class Truck(models.Model):
    number = models.CharField(max_length=20, unique=True)
    subsidiary = models.ForeignKey(Subsidiary, on_delete=models.PROTECT, related_name="trucks")
    fleet = models.ForeignKey(Fleet, on_delete=models.SET_NULL, null=True, blank=True)

    class Meta:
        ordering = ["number"]

    def __str__(self):
        return self.number


class Trailer(models.Model):
    number = models.CharField(max_length=20, unique=True)
    subsidiary = models.ForeignKey(Subsidiary, on_delete=models.PROTECT, related_name="trailers")

    class Meta:
        ordering = ["number"]

    def __str__(self):
        return self.number
