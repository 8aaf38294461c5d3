"""Edge: pictures (matplotlib, Agg): landscapes, merge trees, persistence diagrams, studies, training."""

from .landscape import plot_landscape
from .study import figure5, files_figure, gallery
from .diagram import plot_persistence_diagram
from .topology import plot_merge_tree
from .training import plot_history

__all__ = ["plot_landscape", "plot_merge_tree", "plot_persistence_diagram", "figure5", "files_figure", "gallery",
           "plot_history"]
