"""Edge: numpy and losstopo's results <-> VTK datasets and .vti/.vtu files (TTK's layouts)."""

from .datasets import (VTK_LINE, VTK_VERTEX, cell_arrays, field_arrays, image_geometry, line_edges, make_cells,
                       make_graph, make_image, make_table, point_arrays, points, scalar_field, set_field_data,
                       shallow_copy, to_vtk_array)
from .files import read, write
from .landscape import (REPRESENTATIONS, dataset_connectivity, graph_dataset, image_dataset, landscape_arrays,
                        landscape_to_vtk, mark_nonfinite, raw_field, write_landscape_vti)
from .topology import (join_tree_from_ttk, merge_tree_vtk, metrics_table, pairs_from_ttk,
                       persistence_diagram_vtk)

__all__ = ["VTK_LINE", "VTK_VERTEX", "read", "write", "make_image", "make_graph", "make_cells", "make_table",
           "to_vtk_array", "point_arrays", "cell_arrays", "field_arrays", "scalar_field", "image_geometry", "points",
           "line_edges", "set_field_data", "shallow_copy", "REPRESENTATIONS", "landscape_to_vtk",
           "write_landscape_vti", "landscape_arrays", "raw_field", "mark_nonfinite", "image_dataset", "graph_dataset",
           "dataset_connectivity",
           "merge_tree_vtk", "persistence_diagram_vtk", "metrics_table", "join_tree_from_ttk", "pairs_from_ttk"]
