"""The embedded local engine: runs compiled Argo Workflow specs on one machine, with Argo's semantics.

State lives in SQLite under ``$WORKFLOWS_HOME``; each workflow is executed by a
detached runner process, so it survives the process that submitted it.
"""
