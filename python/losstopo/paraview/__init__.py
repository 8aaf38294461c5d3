"""Edge: ParaView. The plugin, the state files and the pvpython scripts (package data), the TTK backend,
and the launchers that run pvpython and the GUI with losstopo's environment."""

from .env import PLUGIN_FILE, STATE_DIR, find_executable, paraview_environment, state_names, state_path

__all__ = ["PLUGIN_FILE", "STATE_DIR", "find_executable", "paraview_environment", "state_names", "state_path"]
