"""Records: the station's data whose changes are pushed as webhooks.

Every write path raises its event inside the write's transaction
(SPEC section 2): ``save()`` here, deletes through the ``pre_delete`` signal
the registry connects (so cascades count), and QuerySet writes either go
through ``save()`` one record at a time or are refused.
"""

from __future__ import annotations

import functools
import uuid
from typing import Any, ClassVar
from zoneinfo import ZoneInfo

from django.core.exceptions import ValidationError
from django.core.validators import MinValueValidator, RegexValidator
from django.db import models, router, transaction
from django.utils import timezone

from hookcast.exceptions import RecordWriteRefused
from hookcast.records.changes import Action, Change, announce
from hookcast.records.registry import register
from hookcast.records.representation import render_value, renders_as_is
from hookcast.stations.models import Station

# Fields whose change alone is not a change of the record.
UNTRACKED_FIELDS = frozenset({"updated_at"})


class RecordQuerySet(models.QuerySet[Any]):
    """QuerySet writes that raise events, or refuse to run without them."""

    def update(self, **kwargs: Any) -> int:
        """Save each matching record, so that each raises ``updated``."""
        for name, value in kwargs.items():
            if hasattr(value, "resolve_expression"):
                raise RecordWriteRefused(
                    f"update({name}=<expression>) cannot raise events: set the "
                    "value on each record and call save()."
                )
        count = 0
        with transaction.atomic(using=self.db):
            for record in self.select_for_update():
                for name, value in kwargs.items():
                    setattr(record, name, value)
                record.save(using=self.db)
                count += 1
        return count

    def bulk_create(self, *args: Any, **kwargs: Any) -> Any:
        raise RecordWriteRefused(
            f"bulk_create() of {self.model.__name__} would raise no "
            "created events: call save() on each record instead."
        )

    def bulk_update(self, *args: Any, **kwargs: Any) -> Any:
        raise RecordWriteRefused(
            f"bulk_update() of {self.model.__name__} would raise no "
            "updated events: call save() on each record, or QuerySet.update()."
        )


class Record(models.Model):
    """The base of every record type; see ``registry.register``."""

    station = models.ForeignKey(Station, on_delete=models.PROTECT, related_name="+")
    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_at = models.DateTimeField(default=timezone.now, editable=False)

    # The keys of the JSON representation, in order (SPEC section 2). A name
    # is a field's attname or a property of the record.
    representation_fields: ClassVar[tuple[str, ...]] = ()

    objects = RecordQuerySet.as_manager()

    _stored: dict[str, Any] | None = None

    class Meta:
        abstract = True
        ordering = ["id"]

    def __str__(self) -> str:
        return f"{type(self).__name__} {self.pk}"

    @classmethod
    def from_db(cls, db: str | None, field_names: Any, values: Any) -> Any:
        record = super().from_db(db, field_names, values)
        record._stored = dict(zip(field_names, values, strict=True))
        return record

    def represent(self, zone: ZoneInfo | None = None) -> dict[str, Any]:
        """The record's JSON representation, datetimes in ``zone``."""
        zone = zone or self.station.zone
        representation = {}
        for name, field, as_is in self._representation():
            value = getattr(self, name)
            if not as_is and value is not None:
                value = render_value(field, value, zone)
            representation[name] = value
        return representation

    @classmethod
    @functools.cache
    def _representation(
        cls,
    ) -> list[tuple[str, models.Field[Any, Any] | None, bool]]:
        """Each representation key with its field (None for a property) and
        whether its values are rendered as they are."""
        fields = {f.attname: f for f in cls._meta.concrete_fields}
        return [
            (name, fields.get(name), renders_as_is(fields.get(name)))
            for name in cls.representation_fields
        ]

    def save(self, *args: Any, **kwargs: Any) -> None:
        using = kwargs.get("using") or router.db_for_write(type(self), instance=self)
        self._normalize()
        with transaction.atomic(using=using):
            stored = self._stored_values(using)
            adding = stored is None
            if stored is not None:
                changed = self._changed_fields(stored)
                update_fields = kwargs.get("update_fields")
                if update_fields is not None:
                    attnames = {f.name: f.attname for f in self._meta.concrete_fields}
                    changed &= {attnames[name] for name in update_fields}
                    kwargs["update_fields"] = {*update_fields, "updated_at"}
                if not changed:
                    return
            self.updated_at = timezone.now()
            if adding:
                self.created_at = self.updated_at
            super().save(*args, **kwargs)
            self._stored = self._snapshot()
            announce(Change(self, Action.CREATED if adding else Action.UPDATED, using))

    def _normalize(self) -> None:
        """Convert assigned strings to the fields' types, as the database will.

        Without it, ``dob="1990-07-29"`` would count as a change against the
        stored date and be rendered differently from a loaded record.
        """
        for field in self._meta.concrete_fields:
            if field.is_relation or field.attname not in self.__dict__:
                continue
            value = getattr(self, field.attname)
            if value is not None and not hasattr(value, "resolve_expression"):
                try:
                    setattr(self, field.attname, field.to_python(value))
                except ValidationError as exc:
                    raise ValidationError({field.name: exc.messages}) from exc

    def _snapshot(self) -> dict[str, Any]:
        return {f.attname: getattr(self, f.attname) for f in self._meta.concrete_fields}

    def _stored_values(self, using: str) -> dict[str, Any] | None:
        """The row as stored, or None when this save inserts it."""
        if self._stored is not None and not self._state.adding:
            return self._stored
        if self.pk is None:
            return None
        attnames = [f.attname for f in self._meta.concrete_fields]
        return (
            type(self)
            ._base_manager.using(using)
            .filter(pk=self.pk)
            .values(*attnames)
            .first()
        )

    def _changed_fields(self, stored: dict[str, Any]) -> set[str]:
        return {
            name
            for name, value in stored.items()
            if name not in UNTRACKED_FIELDS and getattr(self, name) != value
        }


@register
class Listener(Record):
    first_name = models.CharField(max_length=100, blank=True)
    last_name = models.CharField(max_length=100, blank=True)
    email = models.EmailField(blank=True)
    dob = models.DateField("date of birth", null=True, blank=True)
    gender = models.CharField(max_length=32, blank=True)
    address1 = models.CharField(max_length=200, blank=True)
    address2 = models.CharField(max_length=200, blank=True)
    suburb = models.CharField(max_length=100, blank=True)
    postcode = models.CharField(max_length=16, blank=True)
    phone_number = models.CharField(max_length=32, blank=True)
    country = models.CharField(
        max_length=2,
        blank=True,
        validators=[
            RegexValidator(r"^[A-Z]{2}$", "Use an ISO 3166-1 alpha-2 code, e.g. AU.")
        ],
    )
    state = models.CharField(
        max_length=8, blank=True, help_text="A short region code, e.g. VIC."
    )

    representation_fields = (
        "id", "first_name", "last_name", "email", "dob", "station_id", "gender",
        "address1", "address2", "suburb", "postcode", "created_at", "updated_at",
        "uuid", "phone_number", "full_address", "country", "state",
    )  # fmt: skip

    class Meta(Record.Meta):
        indexes = [models.Index(fields=["station", "email"])]

    def __str__(self) -> str:
        name = f"{self.first_name} {self.last_name}".strip()
        return name or f"Listener {self.pk}"

    @property
    def full_address(self) -> str:
        parts = (self.address1, self.address2, self.suburb, self.state, self.postcode)
        return " ".join(part.strip() for part in parts if part and part.strip())


@register
class Campaign(Record):
    name = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    starts_at = models.DateTimeField(null=True, blank=True)
    ends_at = models.DateTimeField(null=True, blank=True)

    representation_fields = (
        "id", "name", "description", "starts_at", "ends_at", "station_id",
        "created_at", "updated_at", "uuid",
    )  # fmt: skip

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        if self.starts_at and self.ends_at and self.ends_at < self.starts_at:
            raise ValidationError(
                {"ends_at": "A campaign cannot end before it starts."}
            )


class PrizeStatus(models.TextChoices):
    AWARDED = "awarded", "Awarded"
    CLAIMED = "claimed", "Claimed"
    FORFEITED = "forfeited", "Forfeited"


@register
class Prize(Record):
    name = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    value = models.DecimalField(
        max_digits=12,
        decimal_places=2,
        default=0,
        validators=[MinValueValidator(0)],
    )
    status = models.CharField(
        max_length=16, choices=PrizeStatus.choices, default=PrizeStatus.AWARDED
    )
    # A listener's prizes go with the listener, each raising Prize.deleted.
    listener = models.ForeignKey(
        Listener, on_delete=models.CASCADE, related_name="prizes"
    )
    # A campaign with prizes cannot be deleted: SET_NULL would change the
    # prizes behind the events' back.
    campaign = models.ForeignKey(
        Campaign,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="prizes",
    )
    claimed_at = models.DateTimeField(null=True, blank=True)

    representation_fields = (
        "id", "name", "description", "value", "status", "listener_id",
        "campaign_id", "station_id", "claimed_at", "created_at", "updated_at",
        "uuid",
    )  # fmt: skip

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        errors = {}
        if (
            self.listener_id
            and self.station_id
            and self.listener.station_id != self.station_id
        ):
            errors["listener"] = "The listener belongs to another station."
        if (
            self.campaign_id
            and self.station_id
            and self.campaign is not None
            and self.campaign.station_id != self.station_id
        ):
            errors["campaign"] = "The campaign belongs to another station."
        if errors:
            raise ValidationError(errors)
