"""The README's examples run as shown."""
import re
from pathlib import Path

import numpy as np

README = (Path(__file__).resolve().parent.parent / "README.md").read_text()


def test_running_example_runs_and_moves_params_by_about_lr():
    block = re.findall(r"```python\n(.*?)```", README, re.S)[0]
    namespace = {}
    exec(block, namespace)
    # first Adam step: m̂ = g, v̂ = g², so each entry moves by lr·g/(|g| + ε) ≈ lr·sign(g)
    np.testing.assert_allclose(namespace["params"], [1.0 - 1e-3, -2.0 - 1e-3], rtol=1e-6)
    assert namespace["params"].dtype == np.float32 and namespace["state"].t == 1


def test_every_python_example_runs():
    for block in re.findall(r"```python\n(.*?)```", README, re.S):
        if "@theorem(" in block:  # registering would clash with the library's theorem names
            continue
        exec(block, {})


def test_torch_style_example_updates_in_place():
    block = re.findall(r"```python\n(.*?)```", README, re.S)[1]
    namespace = {}
    exec(block, namespace)
    w, b, saved = namespace["w"], namespace["b"], namespace["saved"]
    assert w.shape == (3, 2) and np.all(w < 0) and np.all(b < 0)  # moved against the gradient
    assert set(saved["state"][0]) == {"step", "exp_avg", "exp_avg_sq"}


def test_user_theorem_file_example_proves(tmp_path):
    import subprocess
    import sys

    block = [b for b in re.findall(r"```python\n(.*?)```", README, re.S) if "@theorem(" in b][-1]
    path = tmp_path / "my_theorems.py"
    path.write_text(block)
    root = Path(__file__).resolve().parent.parent
    run = subprocess.run([sys.executable, "-m", "proofs", str(path), "--out", str(tmp_path / "out")],
                         cwd=root, capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stdout + run.stderr
    assert "PROVED" in run.stdout and "Mine.Ball.eq_momentum_sgd" in run.stdout
    assert (tmp_path / "out" / "proofs.html").exists()
