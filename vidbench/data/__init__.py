"""The dataset registry; importing this package registers every built-in dataset."""

from vidbench.data import folder, synthetic  # noqa: F401  (registration)
from vidbench.data.registry import (
    DatasetInfo,
    DatasetSplits,
    create_dataset,
    dataset_info,
    list_datasets,
    register_dataset,
    validate_dataset_args,
)

__all__ = ["DatasetInfo", "DatasetSplits", "create_dataset", "dataset_info", "list_datasets", "register_dataset",
           "validate_dataset_args"]
