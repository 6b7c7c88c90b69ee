"""The neural fields room's model: ``FieldsRoom`` (state and actions, no UI code).

lab.fields.model    FieldsRoom: task, target, model and knobs; train / pause / step / reset
lab.fields.parameters  the room's settings and results; a model's knobs follow its declaration
lab.fields.knobs    the room's knobs, derived from the families' declarations (engines.fields.registry)
lab.fields.plans    what Train builds: each run's field, recipe and parameter count
lab.fields.remote   the worker process the runs train in (started at the first Train or Step)
lab.fields.training the runs and their paced stepping, inside that worker process
lab.fields.run      one field training on one target: step(n), snapshots, checkpoints
lab.fields.units    where an RBF field's units are in an image (NeuRBF ellipses, GNF's unit map)
lab.fields.export   PNG and mesh exports, checkpoints
lab.fields.targets  image and shape targets from bundled names or uploaded bytes
"""
from lab.fields.model import FieldsRoom

__all__ = ["FieldsRoom"]
