"""The REST API's schemas of webhooks, calls and attempts.

The event, endpoint and method are checked by the ``Webhook`` model itself
(``full_clean``), so the API refuses a plain-HTTP endpoint or an unknown
event key with the same message as the administration panel. The signing
secret appears only in ``WebhookCreated`` and ``Secret``.
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field

from hookcast.api.fields import Moment, ObjectIdParam, Text
from hookcast.api.pages import PageParams, page_schema
from hookcast.webhooks.models import CallStatus, Method
from hookcast.webhooks.validation import MAX_ENDPOINT_LENGTH

Timestamp = Annotated[str, Field(json_schema_extra={"format": "date-time"})]
StrictBool = Annotated[bool, Field(strict=True)]


class WebhookIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    event: Annotated[Text, Field(description="An event key; see GET event-types.")]
    endpoint: Annotated[
        Text,
        Field(description="The https:// URL the calls are sent to."),
    ]
    method: Method = Method.POST
    enabled: StrictBool = True


class WebhookPatch(BaseModel):
    model_config = ConfigDict(extra="forbid")

    event: Text | None = None
    endpoint: Text | None = None
    method: Method | None = None
    enabled: StrictBool | None = None


class WebhookOut(BaseModel):
    id: int
    event: str
    endpoint: Annotated[str, Field(max_length=MAX_ENDPOINT_LENGTH)]
    method: Method
    enabled: bool
    created_at: Timestamp
    updated_at: Timestamp
    # Endpoint health, kept by the delivery worker (SPEC section 5).
    disabled_reason: str
    disabled_at: Timestamp | None
    consecutive_failures: int
    last_success_at: Timestamp | None
    failing_since: Timestamp | None


class WebhookCreated(WebhookOut):
    secret: str = Field(description="Verifies the calls' webhook-signature header.")


class Secret(BaseModel):
    secret: str


class RedeliverFailed(BaseModel):
    model_config = ConfigDict(extra="forbid")

    since: Moment = Field(description="Failed calls created at or after this.")


class Queued(BaseModel):
    queued: int = Field(description="How many calls were queued to be sent again.")


class WebhookFilters(PageParams):
    event: Text | None = None
    enabled: bool | None = None


class CallFilters(PageParams):
    webhook: ObjectIdParam | None = None
    event: Text | None = None
    status: CallStatus | None = None
    sender_id: ObjectIdParam | None = None
    created_after: Moment | None = None
    created_before: Moment | None = None


class CallOut(BaseModel):
    webhookCallId: Annotated[str, Field(json_schema_extra={"format": "uuid"})]
    webhook_id: int
    event: str
    sender_id: int
    status: CallStatus
    attempt_count: int
    retry_count: int
    next_attempt_at: Timestamp
    created_at: Timestamp
    last_attempt_at: Timestamp | None
    last_status_code: int | None
    last_error: str
    delivered_at: Timestamp | None


class SentRequest(BaseModel):
    method: str
    url: str
    headers: dict[str, Any]
    body: str


class Reply(BaseModel):
    status: int | None
    headers: dict[str, Any]
    body: str = Field(description="The first 16 KiB of the response body.")


class AttemptOut(BaseModel):
    number: int
    sent_at: Timestamp
    duration_ms: int
    request: SentRequest
    response: Reply
    error: str = Field(description="Why no response was had, if none was.")
    succeeded: bool


class CallDetail(CallOut):
    sender: dict[str, Any] = Field(description="The record as the call sends it.")
    attempts: list[AttemptOut]


WebhookPage = page_schema(WebhookOut, "Webhook")
CallPage = page_schema(CallOut, "Call")
