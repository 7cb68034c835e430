"""Operations: tasks combined into Argo workflows (compatible with ``cloudharness.workflows.operations``)."""

from ..errors import BadOperationConfiguration
from ..tasks import CustomTask, Task
from .base import (
    AsyncOperation,
    ContainerizedOperation,
    DataQueryOperation,
    DirectOperation,
    ManagedOperation,
    OperationNotSubmitted,
    OperationStatus,
    ResourceQueryOperation,
    SyncOperation,
)
from .composite import (
    CompositeOperation,
    DagOperation,
    ParallelOperation,
    PipelineOperation,
    SimpleDagOperation,
)
from .context import PodExecutionContext
from .options import OperationOptions
from .single import ExecuteAndWaitOperation, SingleTaskOperation
from .sync import DataFrameOperation, DistributedSyncOperation, DistributedSyncOperationWithResults

__all__ = [
    "BadOperationConfiguration",
    "OperationNotSubmitted",
    "OperationStatus",
    "CustomTask",
    "Task",
    "PodExecutionContext",
    "OperationOptions",
    "ManagedOperation",
    "ContainerizedOperation",
    "AsyncOperation",
    "SyncOperation",
    "DirectOperation",
    "ResourceQueryOperation",
    "DataQueryOperation",
    "SingleTaskOperation",
    "ExecuteAndWaitOperation",
    "CompositeOperation",
    "PipelineOperation",
    "ParallelOperation",
    "SimpleDagOperation",
    "DagOperation",
    "DistributedSyncOperation",
    "DistributedSyncOperationWithResults",
    "DataFrameOperation",
]
