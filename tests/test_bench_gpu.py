"""benchmarks.bench_gpu runs end to end at tiny sizes on the CPU (the GPU check of issue 14 is
tested here; on a GPU machine the same code runs at paper sizes)."""
import pytest

from benchmarks import bench_gpu


def test_quick_gpu_check_runs_on_the_cpu_and_agrees_with_itself():
    rows = bench_gpu.main(quick=True)
    assert rows[0]["name"].startswith("device: cpu")
    agree = [r["value"] for r in rows if "max |s_" in r["name"]]
    # Same matrices, same engine, same device: the certified top values agree to rounding
    # (eta/gap <= 1e-6 bounds vectors; values converge quadratically, far below 1e-9).
    assert len(agree) == len(bench_gpu.QUICK.sizes) and max(agree) < 1e-9
    ratios = [r["ratio"] for r in rows if "ratio" in r]
    assert len(ratios) == len(bench_gpu.QUICK.sizes) + 1 and all(x > 0 for x in ratios)


def test_cuda_without_a_gpu_is_an_error_not_a_fallback(monkeypatch):
    import torch
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    with pytest.raises(ValueError, match="CUDA"):
        bench_gpu.gpu_check(bench_gpu.QUICK, device="cuda")
