"""What is studied: the model zoo, the data sets, seeded training and checkpoints."""

from .checkpoint import LoadedCheckpoint, load_checkpoint, save_checkpoint
from .data import DATASETS, as_tensors, dataset_info, load_dataset
from .train import evaluate_model, train_model
from .zoo import MODELS, build_model, model_flops, register_model

__all__ = ["MODELS", "DATASETS", "build_model", "register_model", "model_flops", "dataset_info", "load_dataset",
           "as_tensors", "train_model", "evaluate_model", "save_checkpoint", "load_checkpoint", "LoadedCheckpoint"]
