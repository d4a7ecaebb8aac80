import optim  # noqa: F401  (registers the NumPy backend)
import symbolic.tensor  # noqa: F401  (registers the SymPy backend)


# The buffers (array fields) of the seed's five families, as the tests of their values and of
# bad input expect them in a state from ``init`` (SGD without momentum keeps none).
SEED_BUFFERS = {
    "SGD": (),
    "MomentumSGD": ("buf",),
    "Adam": ("m", "v"),
    "AdamW": ("m", "v"),
    "Adadelta": ("v", "u"),
}
