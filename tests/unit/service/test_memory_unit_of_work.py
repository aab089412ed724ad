"""The in-memory unit of work keeps the transaction rules use cases rely on."""

from __future__ import annotations

import pytest

from contractsync.adapters.memory.unit_of_work import FakeUnitsOfWork
from contractsync.domain.model import Reseller


def test_leaving_with_an_error_or_as_a_preview_undoes_everything() -> None:
    units = FakeUnitsOfWork()
    with pytest.raises(RuntimeError), units() as uow:
        uow.directory.add_reseller(Reseller("r1"))
        raise RuntimeError("refused")
    with units(commit=False) as uow:
        uow.directory.add_reseller(Reseller("r2"))
        uow.commit()  # a preview commits nothing, even when asked
    assert units.data.resellers == {}


def test_an_early_commit_survives_a_later_error() -> None:
    units = FakeUnitsOfWork()
    with pytest.raises(RuntimeError), units() as uow:
        uow.directory.add_reseller(Reseller("r1"))
        uow.commit()
        uow.directory.add_reseller(Reseller("r2"))
        raise RuntimeError("refused")
    assert list(units.data.resellers) == ["r1"]
    with units() as uow:
        assert uow.directory.add_reseller(Reseller("r1")) is False
    assert uow.commits == 1
