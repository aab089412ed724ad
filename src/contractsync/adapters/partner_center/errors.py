"""The one error of the Partner Center reader: it names the file, the record and the field."""

from __future__ import annotations


class PartnerCenterFormatError(ValueError):
    """A Partner Center document (or one record of it) that cannot be read without guessing.

    Not called `ImportError`: that would shadow the builtin. `record` is a path into the document
    (`items[1]`, `transition[0]`, or `document` for the whole file); `field` is the Partner Center
    field as the file spells it (`status`, `billingCycle`), or None when the whole record is at fault.
    """

    def __init__(self, source: str, record: str, field: str | None, message: str) -> None:
        self.source = source
        self.record = record
        self.field = field
        self.message = message
        where = f"{source}: {record}" + (f": {field}" if field else "")
        super().__init__(f"{where}: {message}")

    def as_json(self) -> dict[str, str | None]:
        return {"file": self.source, "record": self.record, "field": self.field, "message": self.message}
