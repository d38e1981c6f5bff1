"""Quote sizes: the size action, or the fixed ``order_size``."""

from mm_env.components.base import register_component
from mm_env.components.size.action import SizeAction
from mm_env.components.size.fixed import FixedSize

for _component in (SizeAction, FixedSize):
    register_component(_component)
