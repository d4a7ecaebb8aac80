"""The SymPy backend: generic tensors allow only elementwise work; explicit ones cover one shape."""
import pytest
import sympy

from optim import adam, sgd
from proofs.harness import Given, equation
from symbolic import PROVED, SYMPY, Claim, NotElementwise, SymTensor, decide


def test_generic_tensors_refuse_non_elementwise_operations():
    p = SymTensor.symbols("p", real=True)
    with pytest.raises(NotElementwise):
        p.sum()
    with pytest.raises(NotElementwise):
        p[0]


def test_an_optimizer_trace_on_generic_tensors_records_its_operations():
    x = Given()
    state = adam.State(x.positive("lr"), x.unit("b1"), x.unit("b2"), x.positive("eps"),
                       x.tensor("m"), x.tensor("v", entries="nonnegative"), x.natural("t"))
    _, params = adam.update(state, x.tensor("p"), x.tensor("g"))
    assert params.is_generic
    assert {"add", "mul", "sub", "div", "sqrt"} <= params.ops
    assert ("nonnegative", state.v.entry) not in params.conditions  # the *new* v is the radicand


def test_explicit_shape_theorem_compares_every_entry():
    x = Given()
    lr, p, g = x.real("lr"), x.tensor("p", shape=(2, 2)), x.tensor("g", shape=(2, 2))
    _, new = sgd.update(sgd.State(lr), p, g)
    assert new.shape == (2, 2) and new[1, 0] == p[1, 0] - g[1, 0] * lr
    verdict = decide(Claim(new, p - g * lr, x.variables))
    assert verdict.status == PROVED
    assert "explicit shape (2, 2): all 4 entries" in verdict.shape


def test_mixing_shapes_is_an_error():
    a = SymTensor.symbols("a", (2,), real=True)
    with pytest.raises(ValueError, match="shape mismatch"):
        a + SymTensor.symbols("b", real=True)


def test_python_floats_enter_exactly():
    p = SymTensor.symbols("p", real=True)
    assert (p * 0.1).entry == p.entry * sympy.Rational(0.1)  # the binary value, not 1/10
    assert SYMPY.sqrt(4.0) == 2


def test_where_and_maximum_are_elementwise():
    p = SymTensor.symbols("p", real=True)
    chosen = SYMPY.where(p > 0, p, 0)
    assert chosen.entry == sympy.Piecewise((p.entry, p.entry > 0), (0, True))
    assert SYMPY.maximum(p, 0).entry == sympy.Max(p.entry, 0)
