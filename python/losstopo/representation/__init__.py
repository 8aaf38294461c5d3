"""Stage 3, the representation: a landscape as an image (TTK's triangulation) or as its kNN graph."""

from .image import ImageConnectivity, grid_geometry, image_connectivity, landscape_image
from .knn import GraphConnectivity, drop_self, exact_knn, graph_connectivity, knn_graph, neighbour_recall, \
    symmetric_edges
from .points import points3

Connectivity = ImageConnectivity | GraphConnectivity

__all__ = ["Connectivity", "ImageConnectivity", "GraphConnectivity", "grid_geometry", "image_connectivity",
           "landscape_image", "knn_graph", "graph_connectivity", "exact_knn", "drop_self", "symmetric_edges",
           "neighbour_recall", "points3"]
