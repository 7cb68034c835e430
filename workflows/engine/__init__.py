"""The embedded local engine: runs compiled Argo Workflow specs on one machine, with Argo's semantics.

State lives in SQLite under ``$WORKFLOWS_HOME``; each workflow is executed by a
detached runner process, so it survives the process that submitted it.

The interpreter the runner drives is laid out like Argo's controller:
:mod:`.execution` is the workflow's run (``operator.go``: entrypoint, inputs,
retries or one attempt); :mod:`.templates` dispatches a template on its kind to
:mod:`.podnodes`, :mod:`.steps`, :mod:`.dag`, :mod:`.suspend`, :mod:`.httpcall`
or :mod:`.resources`; :mod:`.children` is what steps and DAG tasks share
(``when``, loops, ``failFast``); :mod:`.retries`, :mod:`.exithandler` and
:mod:`.outputs` are named for what they do. :mod:`.lang` holds the languages of
templates and conditions, :mod:`.pod` how a pod runs in its sandbox.
"""
