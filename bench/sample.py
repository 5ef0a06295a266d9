"""The record every benchmark call carries: the reference document's
listener, so bodies are of the documented size."""

from __future__ import annotations

SENDER = {
    "id": 1788495, "first_name": "John", "last_name": "Smith",
    "email": "john.smith@example.com", "dob": "1990-07-29", "station_id": 1,
    "gender": "male", "address1": "58 Stead St", "address2": "",
    "suburb": "South Melbourne", "postcode": "3205",
    "created_at": "2020-02-26T09:50:31.759+11:00",
    "updated_at": "2020-03-17T23:02:25.624+11:00",
    "uuid": "34c16742-b5a3-444f-954e-cc245564f86b", "phone_number": "0412123123",
    "full_address": "58 Stead St South Melbourne VIC 3205", "country": "AU",
    "state": "VIC",
}  # fmt: skip
