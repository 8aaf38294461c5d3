"""The LossTopo plugin's sources: the Loss Landscape source (a checkpoint's landscape, or your own model,
weights, data and loss from your files as `losstopo landscape --model ... --weights ... --data ...`, computed
with progress and cached on disk) and the reader of landscape folders and .vti/.vtu files."""

from __future__ import annotations

from pathlib import Path

from paraview.util.vtkAlgorithm import VTKPythonAlgorithmBase, smdomain, smhint, smproperty, smproxy
from vtkmodules.vtkCommonDataModel import vtkDataSet, vtkImageData, vtkUnstructuredGrid

from ... import names
from ...errors import LossTopoError
from ...settings import DIRECTION_KINDS
from .base import (IMAGE, RepresentationMixin, documented, guarded, image_whole_extent, landscape_to_vtk,
                   set_output_object)


@smproxy.source(name="LossLandscapeSource", label="Loss Landscape")
@smhint.xml('<ShowInMenu category="Loss Topology"/>')
@documented
class LossLandscapeSource(RepresentationMixin, VTKPythonAlgorithmBase):
    """Loss and accuracy of a trained PyTorch checkpoint on a grid in a 1-3-D subspace of its weights."""

    # ParaView collects properties from the class's own namespace only
    SetRepresentation = RepresentationMixin.SetRepresentation
    SetK = RepresentationMixin.SetK

    def __init__(self):
        VTKPythonAlgorithmBase.__init__(self, nInputPorts=0, nOutputPorts=1, outputType="vtkDataSet")
        self._checkpoint = ""
        self._model = ""
        self._weights = ""
        self._data = ""
        self._loss = ""
        self._directions = 1
        self._seed = 0
        self._span = 1.0
        self._resolution = 41
        self._dims = 2
        self._samples = 0
        self._cache_dir = ""
        self._landscape = None
        self._landscape_key = None

    def _set(self, attr, value):
        if getattr(self, attr) != value:
            setattr(self, attr, value)
            self.Modified()

    @smproperty.stringvector(name="Checkpoint", default_values="")
    @smdomain.filelist()
    @smhint.filechooser(extensions="pt pth", file_description="PyTorch checkpoints")
    @smdomain.xml("""<Documentation>Checkpoint written by `losstopo train` (model.pt): the trained
      weights and what is needed to rebuild the model and its evaluation data.</Documentation>""")
    def SetCheckpoint(self, path):
        self._set("_checkpoint", path or "")

    @smproperty.stringvector(name="Model", default_values="")
    @smdomain.xml("""<Documentation>Your own model instead of a checkpoint: FILE.py:FUNCTION, a function of
      your file that returns the torch.nn.Module (as `losstopo landscape --model`). Needs Data.
      </Documentation>""")
    def SetModel(self, spec):
        self._set("_model", (spec or "").strip())

    @smproperty.stringvector(name="Weights", default_values="")
    @smdomain.filelist()
    @smhint.filechooser(extensions="pt pth", file_description="PyTorch weights")
    @smdomain.xml("""<Documentation>Weights of your Model: a state_dict, a whole saved module or a losstopo
      checkpoint (as `losstopo landscape --weights`). Empty: the model as the function returns it.
      </Documentation>""")
    def SetWeights(self, path):
        self._set("_weights", (path or "").strip())

    @smproperty.stringvector(name="Data", default_values="")
    @smdomain.xml("""<Documentation>Data of your Model: FILE.py:FUNCTION returning a DataLoader, a Dataset,
      an (X, y) pair of tensors or a list of (inputs, targets) batches (as `losstopo landscape --data`).
      </Documentation>""")
    def SetData(self, spec):
        self._set("_data", (spec or "").strip())

    @smproperty.stringvector(name="Loss", default_values="")
    @smdomain.xml("""<Documentation>Optional loss of your Model: FILE.py:FUNCTION, loss(outputs, targets)
      returning a scalar. Empty: cross-entropy for integer targets, mean squared error for float targets.
      </Documentation>""")
    def SetLoss(self, spec):
        self._set("_loss", (spec or "").strip())

    @smproperty.intvector(name="Directions", default_values=1)
    @smdomain.xml("""<EnumerationDomain name="enum">
        <Entry value="0" text="Random (layer-normalised)"/>
        <Entry value="1" text="Filter-normalised random"/>
        <Entry value="2" text="Hessian (top eigenvectors)"/>
      </EnumerationDomain>
      <Documentation>The subspace the landscape spans. Random: Gaussian directions rescaled layer by
      layer to the weights' norms. Filter-normalised: random Gaussian directions
      rescaled filter by filter to the weights' norms (Li et al., 'Visualizing the Loss Landscape of
      Neural Nets', NeurIPS 2018). Hessian: the eigenvectors of the largest Hessian eigenvalues
      (Lanczos on Hessian-vector products, on the evaluation data).
      </Documentation>""")
    def SetDirections(self, value):
        self._set("_directions", int(value))

    @smproperty.intvector(name="DirectionSeed", label="Direction Seed", default_values=0)
    @smdomain.xml("""<IntRangeDomain name="range" min="0" max="1000000"/>
      <Documentation>Seed of the random directions (and of Hessian power iteration).</Documentation>""")
    def SetDirectionSeed(self, value):
        self._set("_seed", int(value))

    @smproperty.doublevector(name="Span", default_values=1.0)
    @smdomain.xml("""<DoubleRangeDomain name="range" min="1e-6" max="100"/>
      <Documentation>Half-width of the grid: each coordinate runs over [-Span, Span] in units of the
      (normalised) directions.</Documentation>""")
    def SetSpan(self, value):
        self._set("_span", float(value))

    @smproperty.intvector(name="Resolution", default_values=41)
    @smdomain.xml("""<IntRangeDomain name="range" min="2" max="1001"/>
      <Documentation>Points per axis of the grid (the loss is evaluated Resolution^Dimensions times).
      </Documentation>""")
    def SetResolution(self, value):
        self._set("_resolution", int(value))

    @smproperty.intvector(name="Dimensions", default_values=2)
    @smdomain.xml("""<EnumerationDomain name="enum">
        <Entry value="1" text="1 (a line)"/>
        <Entry value="2" text="2 (a plane)"/>
        <Entry value="3" text="3 (a volume)"/>
      </EnumerationDomain>
      <Documentation>Number of directions, i.e. the dimension of the landscape.</Documentation>""")
    def SetDimensions(self, value):
        self._set("_dims", int(value))

    @smproperty.intvector(name="Samples", default_values=0)
    @smdomain.xml("""<IntRangeDomain name="range" min="0" max="100000"/>
      <Documentation>Number of data samples the loss is averaged over at each point (0: the
      checkpoint's default evaluation set).</Documentation>""")
    def SetSamples(self, value):
        self._set("_samples", int(value))

    @smproperty.stringvector(name="CacheDirectory", label="Cache Directory", default_values="",
                             panel_visibility="advanced")
    @smdomain.xml("""<Documentation>Folder the landscape is written to (landscape.npz, .vti, meta.json).
      Empty: losstopo's cache ($LOSSTOPO_CACHE or ~/.cache/losstopo), keyed by the checkpoint and every
      setting, so asking again for the same settings (after a restart too) returns at once, and an
      interrupted computation resumes from its finished chunks.</Documentation>""")
    def SetCacheDirectory(self, path):
        self._set("_cache_dir", path or "")

    def settings(self) -> dict:
        """The compute_landscape keyword arguments these properties stand for."""
        return dict(directions=DIRECTION_KINDS[self._directions], resolution=self._resolution, span=self._span,
                    dims=self._dims, samples=self._samples or None, seed=self._seed)

    def cache_dir(self) -> Path | None:
        """None: losstopo's cache ($LOSSTOPO_CACHE or ~/.cache/losstopo), keyed by checkpoint and settings."""
        return Path(self._cache_dir) if self._cache_dir else None

    def RequestInformation(self, request, in_info, out_info_vec):
        if self._representation == IMAGE:
            image_whole_extent(out_info_vec, (self._resolution,) * self._dims)
        return 1

    @guarded
    def RequestData(self, request, in_info, out_info_vec):
        from losstopo import settings

        extras = {"Weights": self._weights, "Loss": self._loss}
        source = settings.model_source(self._checkpoint or None, self._model or None, self._data or None, extras) \
            if (self._model or self._data or self._weights or self._loss) else "checkpoint"
        if source == "user":
            self._user_landscape()
        else:
            self._checkpoint_landscape()
        data = landscape_to_vtk(self._landscape, self._representation, self._k)
        vtkDataSet.GetData(out_info_vec, 0).ShallowCopy(data)
        return 1

    def _checkpoint_landscape(self) -> None:
        if not self._checkpoint:
            raise LossTopoError("no checkpoint chosen",
                                "set Checkpoint to a model.pt written by `losstopo train` (or Model and Data)")
        ckpt = Path(self._checkpoint)
        if not ckpt.is_file():
            raise LossTopoError(f"checkpoint {ckpt} does not exist", "choose an existing model.pt")
        key = (str(ckpt.resolve()), ckpt.stat().st_mtime_ns, tuple(sorted(self.settings().items())),
               str(self.cache_dir()))
        if key != self._landscape_key:  # only the representation changed: reuse the losses
            from losstopo.landscape.compute import compute_landscape

            self._landscape = compute_landscape(
                str(ckpt), **self.settings(), out_dir=self.cache_dir(), resume=True,
                progress=lambda f: self.UpdateProgress(float(f)), show_progress=False)
            self._landscape_key = key

    def _user_landscape(self) -> None:
        """Model/Weights/Data/Loss from the user's files, the same as `losstopo landscape --model ...`."""
        files = [f.rpartition(":")[0] or f for f in (self._model, self._data, self._loss, self._weights) if f]
        stamps = tuple((f, Path(f).stat().st_mtime_ns if Path(f).is_file() else None) for f in files)
        key = ("user", self._model, self._weights, self._data, self._loss, stamps,
               tuple(sorted(self.settings().items())), str(self.cache_dir()))
        if key == self._landscape_key:
            return
        from losstopo.landscape.api import landscape
        from losstopo.models.user import build_user_model, load_function, load_user_data

        model = build_user_model(self._model, self._weights or None)
        data = load_user_data(self._data)
        loss = load_function(self._loss, "--loss") if self._loss else None
        self.UpdateProgress(0.05)
        self._landscape = landscape(model, data, loss, **self.settings(), out=self.cache_dir(), progress=False)
        self.UpdateProgress(1.0)
        self._landscape_key = key


@smproxy.reader(name="LossLandscapeReader", label="Loss Landscape Reader",
                file_description="losstopo landscape", filename_patterns="landscape.npz meta.json")
@smhint.xml('<ShowInMenu category="Loss Topology"/>')
@documented
class LossLandscapeReader(RepresentationMixin, VTKPythonAlgorithmBase):
    """A landscape written by `losstopo landscape --out DIR`: DIR, DIR/landscape.npz or DIR/meta.json;
    a .vti/.vtu file (such as a reference landscape) is read as it is."""

    SetRepresentation = RepresentationMixin.SetRepresentation
    SetK = RepresentationMixin.SetK

    def __init__(self):
        VTKPythonAlgorithmBase.__init__(self, nInputPorts=0, nOutputPorts=1, outputType="vtkDataSet")
        self._filename = ""

    @smproperty.stringvector(name="FileName", default_values="")
    @smdomain.filelist()
    @smhint.filechooser(extensions="npz json",
                        file_description="losstopo landscape (landscape.npz, meta.json)")
    @smdomain.xml("""<Documentation>The landscape folder written by `losstopo landscape --out DIR`, its
      landscape.npz or its meta.json; a .vti/.vtu file is read as it is.</Documentation>""")
    def SetFileName(self, name):
        if name != self._filename:
            self._filename = name or ""
            self.Modified()

    def _path(self) -> Path:
        if not self._filename:
            raise LossTopoError("no landscape file chosen",
                                "set FileName to a landscape folder or landscape.npz")
        p = Path(self._filename)
        if p.name == names.META_JSON:
            p = p.parent
        if not p.exists():
            raise LossTopoError(f"landscape {p} does not exist",
                                "run `losstopo landscape ... --out DIR` first")
        return p

    def _is_vtk_file(self, p: Path) -> bool:
        return p.is_file() and p.suffix.lower() in (".vti", ".vtu")

    def RequestDataObject(self, request, in_info, out_info_vec):
        p = Path(self._filename) if self._filename else None
        if p is not None and p.suffix.lower() == ".vtu":
            set_output_object(out_info_vec, 0, vtkUnstructuredGrid())
            return 1
        if p is not None and p.suffix.lower() == ".vti":
            set_output_object(out_info_vec, 0, vtkImageData())
            return 1
        return super().RequestDataObject(request, in_info, out_info_vec)

    @guarded
    def RequestInformation(self, request, in_info, out_info_vec):
        p = Path(self._filename) if self._filename else None
        if p is None or not p.exists():
            return 1  # reported by RequestData
        if self._is_vtk_file(p):
            if p.suffix.lower() == ".vti":
                from losstopo import vtkio

                image_whole_extent(out_info_vec, vtkio.read(p).GetDimensions())
            return 1
        if self._representation == IMAGE:
            from losstopo.landscape.files import load_landscape

            ls = load_landscape(self._path())
            if ls.resolution is not None:
                image_whole_extent(out_info_vec, ls.resolution)
        return 1

    @guarded
    def RequestData(self, request, in_info, out_info_vec):
        p = self._path()
        if self._is_vtk_file(p):
            from losstopo import vtkio

            data = vtkio.read(p)
        else:
            from losstopo.landscape.files import load_landscape

            data = landscape_to_vtk(load_landscape(p), self._representation, self._k)
        vtkDataSet.GetData(out_info_vec, 0).ShallowCopy(data)
        return 1


