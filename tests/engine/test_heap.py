"""``heap.settle``: what lives on is frozen out of full collections, garbage is not."""

from __future__ import annotations

import gc
import weakref
from collections.abc import Iterator

import pytest

from deepaas_lite.engine import heap


class Node:
    def __init__(self) -> None:
        self.other: Node | None = None


@pytest.fixture
def serving(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setattr(heap, "_enabled", False)
    heap.enable()
    try:
        yield
    finally:
        gc.unfreeze()


def _cycle() -> Node:
    a, b = Node(), Node()
    a.other, b.other = b, a
    return a


def test_settling_freezes_what_lives_and_collects_what_does_not(serving: None) -> None:
    kept = _cycle()
    garbage = _cycle()
    gone = weakref.ref(garbage)
    del garbage
    assert gone() is not None  # a cycle: only a collection frees it
    before = gc.get_freeze_count()
    heap.settle("test")
    assert gone() is None
    assert gc.get_freeze_count() > before
    # What was alive is frozen: a full collection no longer tracks it.
    assert not any(obj is kept for obj in gc.get_objects())
    assert gc.is_tracked(kept)


def test_a_process_that_does_not_serve_does_not_freeze(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(heap, "_enabled", False)
    before = gc.get_freeze_count()
    heap.settle("test")
    assert gc.get_freeze_count() == before
    assert not heap.enabled()
