"""Theorems about ``optim.sgd`` (TorchLean ``Optim.SGD``)."""
from optim import sgd
from proofs.harness import Given, equation, theorem


@theorem("Optim.SGD.update_eq", statement="(update s p g).params = p − g · s.lr")
def update_eq(x: Given):
    """SGD is definitionally p - lr * g."""
    state = sgd.State(lr=x.real("lr"))
    params, grads = x.tensor("params"), x.tensor("grads")
    _, new_params = sgd.update(state, params, grads)
    return equation(new_params, params - grads * state.lr)  # reference: the seed's equation
