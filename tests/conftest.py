import optim  # noqa: F401  (registers the NumPy backend)
import symbolic  # noqa: F401  (registers the SymPy backend)
