"""The dynamic-connectome room's model (``ConnectomeRoom``) and where its recordings come from."""
from lab.connectome.model import ConnectomeRoom

__all__ = ["ConnectomeRoom"]
