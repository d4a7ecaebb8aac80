import optim  # noqa: F401  (registers the NumPy backend)
import symbolic.tensor  # noqa: F401  (registers the SymPy backend)
