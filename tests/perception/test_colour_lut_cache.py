"""The colour lookup table kept in groundsight's cache reads back as the table built fresh; a damaged or
foreign file is rebuilt; a subclass (a host's own paints) is never served the default's table."""

from __future__ import annotations

import numpy as np

from groundsight.agent.hosts.appearance import HostColorClassifier
from groundsight.perception.colors import ColorClassifier


def test_the_cached_table_is_the_table_built_fresh(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("GROUNDSIGHT_CACHE", str(tmp_path))
    first = ColorClassifier().lut
    [stored] = list(tmp_path.iterdir())
    assert np.array_equal(np.load(stored, allow_pickle=False), first)
    assert np.array_equal(ColorClassifier().lut, ColorClassifier()._build_lut())


def test_a_damaged_or_foreign_file_is_rebuilt(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("GROUNDSIGHT_CACHE", str(tmp_path))
    fresh = ColorClassifier().lut
    [stored] = list(tmp_path.iterdir())
    for damage in (b"\x93NUMPY garbage", b""):
        stored.write_bytes(damage)
        assert np.array_equal(ColorClassifier().lut, fresh)
    np.save(stored, np.full(fresh.shape, 77, dtype=np.uint8), allow_pickle=False)
    assert np.array_equal(ColorClassifier().lut, fresh)


def test_off_writes_nothing_and_a_subclass_is_not_cached(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("GROUNDSIGHT_CACHE", "off")
    assert ColorClassifier()._lut_path() is None
    monkeypatch.setenv("GROUNDSIGHT_CACHE", str(tmp_path))
    assert HostColorClassifier({"red": ((0.8, 0.1, 0.1),)})._lut_path() is None
