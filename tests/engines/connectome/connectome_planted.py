"""The planted generator of the engine tests (engines/connectome/planted.py, which the experiments use too)."""
from engines.connectome.planted import (DT, DURATION_S, EPOCHS, MODULES, N_NEURONS, module_labels,  # noqa: F401
                                        planted_worms, smooth_noise)
