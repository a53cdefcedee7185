"""What a cached export is keyed by: the model's own files, not what sentence-transformers
exports beside them (its ``onnx/`` and ``openvino/`` folders), which would otherwise make
every cached export of the model stale the moment one is written."""

from __future__ import annotations

from pathlib import Path

from es_rerank.runtime.cache import model_digest


def _model(path: Path) -> Path:
    path.mkdir()
    (path / "config.json").write_text('{"model_type": "bert"}')
    (path / "model.safetensors").write_bytes(b"weights")
    (path / "1_Pooling").mkdir()  # a sentence-transformers module folder: part of the model
    (path / "1_Pooling" / "config.json").write_text('{"pooling_mode_cls_token": true}')
    return path


def test_backend_exports_beside_the_model_leave_its_digest_alone(tmp_path: Path) -> None:
    path = _model(tmp_path / "m")
    before = model_digest(path)
    for folder, name in (("onnx", "model_qint8_avx512_vnni.onnx"), ("openvino", "x.xml")):
        (path / folder).mkdir()
        (path / folder / name).write_bytes(b"an export")
    (path / "README.md").write_text("a model card")
    assert model_digest(path) == before


def test_the_model_files_and_module_folders_change_its_digest(tmp_path: Path) -> None:
    path = _model(tmp_path / "m")
    before = model_digest(path)
    (path / "model.safetensors").write_bytes(b"other weights")
    weights = model_digest(path)
    assert weights != before
    (path / "1_Pooling" / "config.json").write_text('{"pooling_mode_mean_tokens": true}')
    assert model_digest(path) != weights
    (path / "onnx_notes").mkdir()  # only the two export folders themselves are skipped
    (path / "onnx_notes" / "a.txt").write_text("x")
    assert model_digest(path) not in (before, weights)
