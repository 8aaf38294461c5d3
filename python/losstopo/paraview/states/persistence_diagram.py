"""ParaView state (Python): the persistence diagram of the loss beside the landscape,
with losstopo's built-in filters.

Open it with File > Load State once losstopo's plugin is loaded, or let losstopo do both:
    losstopo paraview LANDSCAPE --state persistence_diagram
    losstopo render --state persistence_diagram LANDSCAPE --out DIR      (headless, one PNG per view)
It opens the landscape named by LOSSTOPO_LANDSCAPE (a landscape folder, landscape.npz, .vti or .vtu),
else demo/landscape. The pipeline itself: losstopo/paraview/scripts/pipelines.py.
"""

from losstopo.paraview.scripts import pipelines

pipelines.build_state("persistence_diagram", backend="builtin")
