"""Theorems about ``optim.schedule_free_sgd`` and ``optim.schedule_free_adamw`` (Defazio et al.
2024, "The Road Less Scheduled"; facebookresearch/schedule_free 1.4.1): the two-sequence code
(it keeps y and z) is the paper's three sequences z, x, y; ``eval()`` and ``train()`` undo each
other; with β = 1 and a constant averaging coefficient c, schedule-free SGD is heavy ball with
momentum 1 − c."""
from dataclasses import dataclass, replace
from typing import Any

from optim import fields, momentum_sgd, schedule_free_adamw, schedule_free_sgd
from optim._shared import averaged_params, interpolated_params, schedule_free_step
from optim.context import context_of
from optim.schedule_free_sgd import averaging
from proofs.harness import Given, equation, simulation, theorem

PAPER = "Defazio et al. 2024, Algorithm 1"


def interpolation(x: Given, name: str):
    """β ∈ (0, 1), as schedule_free requires (eval() divides by β)."""
    beta = x.unit(name)
    x.assume(beta > 0)
    return beta


def three_sequences(state: Any, y: Any, new: Any, new_y: Any, step: Any, beta: Any):
    """The paper's form of one step, from the code's y and z: with x = avg(y, z) the average
    before and x′ = avg(y′, z′) after, z′ = z − γ·step, x′ = (1 − c)·x + c·z′, y′ = (1 − β)·z′ + β·x′
    (γ = lr: no warmup; c: this step's averaging coefficient)."""
    _, _, _, c = averaging(state, context_of(y))
    x, new_x = averaged_params(y, state.z, beta), averaged_params(new_y, new.z, beta)
    return equation((new.z, new_x, new_y),
                    (state.z - state.lr * step, (1 - c) * x + c * new.z, (1 - beta) * new.z + beta * new_x))


@theorem("Optim.SGDScheduleFree.update_three_sequences_eq", source=PAPER,
         statement="warmup_steps = 0, x = avg(y, z), x′ = avg(y′, z′), g̃ = g + λ·y ⟹ z′ = z − lr·g̃,  "
                   "x′ = (1 − c)·x + c·z′,  y′ = (1 − β)·z′ + β·x′")
def sgd_three_sequences(x: Given):
    """Schedule-free SGD's two-sequence update (y, z) is the paper's three-sequence algorithm: z takes
    an SGD step at y, the average x moves towards z by c, and y interpolates z and x."""
    beta = interpolation(x, "momentum")
    state = x.state(schedule_free_sgd, momentum=beta, warmup_steps=0)
    y, g = x.tensor("params"), x.tensor("grads")
    new, new_y = schedule_free_sgd.update(state, y, g)
    return three_sequences(state, y, new, new_y, g + state.weight_decay * y, beta)


@theorem("Optim.AdamWScheduleFree.update_eq_sgd_schedule_free_on_normalised_grads", source=PAPER,
         statement="(update s y g).(params, z, k, weight_sum, lr_max) = SGDScheduleFree's update (momentum = β1, same "
                   "lr, λ, warmup, r, weight_lr_power, z, k, weight_sum, lr_max) on ĝ = g / (√(v′ / (1 − β2^(k+1))) + ε)")
def adamw_is_sgd_on_normalised_grads(x: Given):
    """Schedule-free AdamW is schedule-free SGD (β = β1) on the gradient normalised by Adam's
    bias-corrected second moment; SGD's L2 term λ·y lands after the normalisation, where AdamW adds
    its decay — so AdamW inherits SGD's three-sequence form."""
    state = x.state(schedule_free_adamw)
    y, g = x.tensor("params"), x.tensor("grads")
    new, new_y = schedule_free_adamw.update(state, y, g)
    sqrt = context_of(y).sqrt
    normalised = g / (sqrt(new.v / (1 - state.beta2 ** (state.k + 1))) + state.epsilon)
    as_sgd = fields.convert(state, schedule_free_sgd.State, drop=("beta1", "beta2", "epsilon", "v"),
                            momentum=state.beta1)
    sgd, sgd_y = schedule_free_sgd.update(as_sgd, y, normalised)
    return equation((new_y, new.z, new.k, new.weight_sum, new.lr_max),
                    (sgd_y, sgd.z, sgd.k, sgd.weight_sum, sgd.lr_max))


@theorem("Optim.AdamWScheduleFree.update_v_eq",
         statement="λ = 0, warmup_steps = 0, lr_max = 0 ⟹ (update s y g).state.v = β2 · v + (1 − β2) · g²")
def adamw_v(x: Given):
    """Schedule-free AdamW's second moment is Adam's EMA of g², of the raw gradient.  (The lr
    schedule and the decay do not reach v: fixed here, so that their branches are not explored.)"""
    state = x.state(schedule_free_adamw, weight_decay=0.0, warmup_steps=0, lr_max=0.0)
    params, g = x.tensor("params"), x.tensor("grads")
    new, _ = schedule_free_adamw.update(state, params, g)
    return equation(new.v, state.beta2 * state.v + (1 - state.beta2) * g * g)


@theorem("Optim.SGDScheduleFree.eval_then_train_eq",
         statement="0 < β < 1 ⟹ interpolated(averaged(y, z), z) = y  and  averaged(interpolated(x, z), z) = x")
def eval_then_train(x: Given):
    """optimizer.eval() then optimizer.train() gives back the params it started from (and the other
    way round): the two maps are inverse to each other, over the reals."""
    beta = interpolation(x, "beta")
    y, z, avg = x.tensor("y"), x.tensor("z"), x.tensor("x")
    return equation((interpolated_params(averaged_params(y, z, beta), z, beta),
                     averaged_params(interpolated_params(avg, z, beta), z, beta)), (y, avg))


@dataclass(frozen=True)
class BaseSequence:
    """Schedule-free's state with a constant averaging coefficient: the base sequence z."""

    z: Any


@theorem("Optim.SGDScheduleFree.constant_c_beta_one_is_heavy_ball", form="simulation", source=f"{PAPER}, §2",
         statement="β = 1, c constant in [0, 1]: schedule-free SGD with lr γ is heavy ball (momentum SGD) with "
                   "momentum 1 − c and lr c·γ, with z = x − (1 − c)·γ·buf, at every step")
def constant_c_is_heavy_ball(x: Given):
    """With β = 1 the params are the average x itself, and a constant averaging weight c makes x
    move like heavy ball: x′ − x = (1 − c)·(x − x₋) − c·γ·g."""
    c, gamma = x.closed_unit("c"), x.nonnegative("gamma")
    params, grads = x.tensor("params"), x.tensor("grads")

    def schedule_free(state: BaseSequence, y: Any, g: Any):
        y, z = schedule_free_step(y, state.z, g, gamma, 1, c)
        return replace(state, z=z), y

    def relate(heavy_ball: momentum_sgd.State, params: Any):
        return BaseSequence(params - (1 - c) * gamma * heavy_ball.buf), params

    return simulation(step_a=momentum_sgd.update, step_b=schedule_free, grads=grads, relate=relate,
                      start_a=(momentum_sgd.init(params, c * gamma, 1 - c), params),
                      start_b=(BaseSequence(params), params))
