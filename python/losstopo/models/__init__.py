"""What is studied: the model zoo, the data sets, seeded training and checkpoints."""

from .checkpoint import LoadedCheckpoint, load_checkpoint, save_checkpoint
from .data import DATASETS, as_tensors, dataset_info, load_dataset
from .evaluate import evaluate_model
from .train import train_model
from .user import build_user_model, load_function, load_user_data, load_weights
from .verify import check_finite_weights, check_reference_loss
from .zoo import MODELS, build_model, model_flops, register_model

__all__ = ["MODELS", "DATASETS", "build_model", "register_model", "model_flops", "dataset_info", "load_dataset",
           "as_tensors", "train_model", "evaluate_model", "save_checkpoint", "load_checkpoint", "LoadedCheckpoint",
           "check_reference_loss", "check_finite_weights", "build_user_model", "load_user_data", "load_weights",
           "load_function"]
