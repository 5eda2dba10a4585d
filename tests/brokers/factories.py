"""Factories for the brokers app."""

from __future__ import annotations

import datetime as dt

import factory

from brokers import models
from clients.idnumbers import make_resident_id


class BrokerFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = models.IntroducingBroker
        django_get_or_create = ("code",)
        skip_postgeneration_save = True

    code = factory.Sequence(lambda n: f"IB{n:03d}")
    name = factory.Sequence(lambda n: f"居间人{n}")
    broker_type = models.BrokerType.PERSON
    id_number = factory.Sequence(lambda n: make_resident_id(f"33010619801111{n % 1000:03d}"))
    qualification_no = factory.Sequence(lambda n: f"F{n:07d}")
    registered_on = dt.date(2021, 10, 8)
    contract_start = dt.date(2022, 1, 1)
    contract_end = dt.date(2027, 12, 31)
    status = models.BrokerStatus.ACTIVE
    bank_account = "6222020200001234567"
    bank_account_name = factory.SelfAttribute("name")

    @factory.post_generation
    def initial_status(self, create, extracted, **kwargs):
        if create and not self.status_changes.exists():
            models.BrokerStatusChange.objects.create(
                broker=self, status=self.status, effective_from=self.contract_start
            )


class InstitutionBrokerFactory(BrokerFactory):
    broker_type = models.BrokerType.INSTITUTION
    id_number = factory.Sequence(lambda n: f"91330100MA2G{n:05d}0Y")
    qualification_no = ""


class LinkFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = models.BrokerLink

    account = factory.SubFactory("tests.factories.AccountFactory")
    broker = factory.SubFactory(BrokerFactory)
    valid_from = dt.date(2024, 1, 15)
    valid_to = None
