"""Durable checkpoints of nets.train: fsync of file and directory before/after the rename, the
checkpoint written before the metrics (and a resume that repairs metrics a kill left one epoch
behind), every output-path problem found before data are loaded or an epoch trained, and
unreadable checkpoint files reported with their path."""
from __future__ import annotations

import json
import os

import pytest
import torch

import nets.checkpoint
import nets.train
from core.validate import InvalidArgument
from nets.configs import TrainConfig
from nets.data import polynomial_classification_e4
from nets.train import CHECKPOINT, METRICS, Run, train

TIMING = {"train_time_s", "callback_time_s", "cpu_time_s"}


def _cfg(**kw) -> TrainConfig:
    base = dict(name="tiny", description="test", paper_ref="-", dataset="polynomial_e4",
                model={"kind": "mlp", "topology": [2, 8, 2]}, epochs=3, batch_size=32, lr=0.05,
                momentum=0.9, lr_decay=0.9, l1=1e-4, l2=1e-3, n_train=64, n_test=32)
    base.update(kw)
    return TrainConfig(**base)


def _data():
    return polynomial_classification_e4(seed=0, n_train=64, n_test=32)


def _strip(rows):
    return [{k: v for k, v in r.items() if k not in TIMING} for r in rows]


def test_save_fsyncs_files_and_directory_and_writes_the_checkpoint_first(tmp_path, monkeypatch):
    events = []
    real_fsync, real_replace = os.fsync, os.replace

    def fsync(fd):
        events.append(("fsync", "dir" if os.path.isdir(f"/proc/self/fd/{fd}") else
                       os.path.basename(os.readlink(f"/proc/self/fd/{fd}"))))
        return real_fsync(fd)

    def replace(src, dst):
        events.append(("rename", os.path.basename(dst)))
        return real_replace(src, dst)
    monkeypatch.setattr(nets.checkpoint.os, "fsync", fsync)
    monkeypatch.setattr(nets.checkpoint.os, "replace", replace)
    run = Run(_cfg(), _data(), seed=0, out_dir=tmp_path, progress=False)
    run.train_epoch()
    assert events == [("fsync", CHECKPOINT + ".tmp"), ("rename", CHECKPOINT), ("fsync", "dir"),
                      ("fsync", METRICS + ".tmp"), ("rename", METRICS), ("fsync", "dir")]
    assert not list(tmp_path.glob("*.tmp"))


def test_resume_after_a_kill_between_checkpoint_and_metrics(tmp_path):
    """A kill after the checkpoint of epoch 2 but before its metrics: resume must give the
    uninterrupted run's metrics file."""
    cfg, data = _cfg(), _data()
    train(cfg, seed=2, data=data, out_dir=tmp_path / "full", progress=False)
    part = tmp_path / "part"
    train(cfg, seed=2, data=data, out_dir=part, stop_after=1, progress=False)
    epoch1_metrics = (part / METRICS).read_bytes()
    train(cfg, seed=2, data=data, out_dir=part, stop_after=2, resume=True, progress=False)
    (part / METRICS).write_bytes(epoch1_metrics)            # as if killed before the metrics rename
    train(cfg, seed=2, data=data, out_dir=part, resume=True, progress=False)
    full = json.loads((tmp_path / "full" / METRICS).read_text())["epochs"]
    resumed = json.loads((part / METRICS).read_text())["epochs"]
    assert len(full) == 3 and _strip(full) == _strip(resumed)
    # killed before the metrics of the *last* epoch: resuming a finished run repairs them too
    (part / METRICS).write_bytes(epoch1_metrics)
    train(cfg, seed=2, data=data, out_dir=part, resume=True, progress=False)
    assert _strip(json.loads((part / METRICS).read_text())["epochs"]) == _strip(full)


@pytest.mark.parametrize("problem", ["checkpoint is a directory", "tmp is a directory", "out is a file",
                                     "parent is a file", "side-by-side checkpoint is a directory",
                                     "resume without out"])
def test_path_problems_are_found_before_any_data_or_training(tmp_path, monkeypatch, problem):
    loaded = []
    monkeypatch.setattr(nets.train, "load_data_for", lambda *a, **k: loaded.append(a))
    out, kw = tmp_path / "out", {}
    if problem == "checkpoint is a directory":
        (out / CHECKPOINT).mkdir(parents=True)
        match = CHECKPOINT
    elif problem == "tmp is a directory":
        (out / (METRICS + ".tmp")).mkdir(parents=True)
        match = METRICS
    elif problem == "out is a file":
        out.write_text("x")
        match = "not a directory"
    elif problem == "parent is a file":
        (tmp_path / "file").write_text("x")
        out = tmp_path / "file" / "out"
        match = "cannot be created"
    elif problem == "side-by-side checkpoint is a directory":
        (out / "unpruned" / CHECKPOINT).mkdir(parents=True)
        kw, match = {"side_by_side": True}, "unpruned"
    else:
        out, kw, match = None, {"resume": True}, "resume needs an output directory"
    with pytest.raises(InvalidArgument, match=match):
        train(_cfg(), seed=0, out_dir=out, progress=False, **kw)
    assert loaded == []


@pytest.mark.parametrize("content", ["directory", b"hello\n", bytes(range(256)) * 8, b"",
                                     "state_dict", "truncated"])
def test_unreadable_checkpoints_name_the_path(tmp_path, content):
    cfg, data = _cfg(), _data()
    path = tmp_path / "ckpt.pt"
    if content == "directory":
        path.mkdir()
    elif content == "state_dict":
        torch.save(Run(cfg, data, seed=0, progress=False).model.state_dict(), path)
    elif content == "truncated":
        train(cfg, seed=0, data=data, out_dir=tmp_path / "run", stop_after=1, progress=False)
        path.write_bytes((tmp_path / "run" / CHECKPOINT).read_bytes()[:500])
    else:
        path.write_bytes(content)
    with pytest.raises(InvalidArgument) as err:
        Run(cfg, data, seed=0, progress=False).load(path)
    assert str(path) in str(err.value)
