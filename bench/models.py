"""Unmanaged models for the conventional baseline view (tables created by bench/minimal.py SETUP_SQL)."""

from django.db import models


class ConvEvent(models.Model):
    counter_id = models.BigIntegerField()
    order_id = models.CharField(max_length=100, unique=True)
    amount = models.DecimalField(max_digits=12, decimal_places=2)
    occurred_at = models.DateTimeField()

    class Meta:
        managed = False
        db_table = "bench_conv_event"
        app_label = "bench"


class ConvCounter(models.Model):
    id = models.BigIntegerField(primary_key=True)
    events = models.BigIntegerField(default=0)
    total = models.DecimalField(max_digits=16, decimal_places=2, default=0)

    class Meta:
        managed = False
        db_table = "bench_conv_counter"
        app_label = "bench"
