"""Operations: tasks combined into Argo workflows (compatible with ``cloudharness.workflows.operations``)."""

from ..errors import BadOperationConfiguration
from .base import (
    AsyncOperation,
    ContainerizedOperation,
    DataQueryOperation,
    DirectOperation,
    ManagedOperation,
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
from .sync import DistributedSyncOperation, DistributedSyncOperationWithResults

__all__ = [
    "BadOperationConfiguration",
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
]
