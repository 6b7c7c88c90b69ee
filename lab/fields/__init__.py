"""The neural fields room's model: targets, field runs and the room's param model.

lab.fields.targets  image and shape targets from bundled names or uploaded bytes
lab.fields.run      one field training on one target: step(n), snapshot(), checkpoints
lab.fields.training the runs of a room and their paced stepping, in the room's worker process
lab.fields.model    FieldsRoom, the param.Parameterized the views drive (it calls the worker)

Kept light (no imports here): import the modules absolutely, e.g. ``from lab.fields.model
import FieldsRoom``.
"""
