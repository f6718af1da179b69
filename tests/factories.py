import datetime

import factory
from django.contrib.auth import get_user_model

from casework import models


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ["username"]

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.org")
    password = factory.django.Password("pw")


class DistrictFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = models.District
        django_get_or_create = ["code"]

    code = factory.Sequence(lambda n: f"district-{n}")
    name = factory.LazyAttribute(lambda d: d.code.title())


class AgencyFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = models.Agency

    name = factory.Sequence(lambda n: f"Agency {n}")
    kind = models.Agency.Kind.SCHOOL
    district = factory.SubFactory(DistrictFactory)


class ChildFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = models.Child

    first_name = factory.Sequence(lambda n: f"Child{n}")
    last_name = "Example"
    date_of_birth = datetime.date(2016, 5, 4)
    district = factory.SubFactory(DistrictFactory)


class ServiceFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = models.Service

    name = factory.Sequence(lambda n: f"Service {n}")
    district = factory.SubFactory(DistrictFactory)
    kind = models.Service.Kind.FAMILY_CENTRE
    min_age = 0
    max_age = 14
