"""The classroom benchmark's light session reads the page the way BokehJS does."""
import asyncio
from types import SimpleNamespace

from benchmarks.light_session import LightSession


def button(object_id: str, label: str) -> dict:
    return {"type": "object", "name": "Button", "id": object_id, "attributes": {"label": label}}


def test_a_patch_that_arrives_before_the_document_does_not_hide_the_document():
    # Under load the reservoir room's deferred tab build reached two light sessions before the
    # document they had asked for; they then knew only the patch, never found "Run", and the
    # classroom benchmark counted their sessions as errors.
    early_patch = SimpleNamespace(msgtype="PATCH-DOC", content={"events": [
        {"kind": "ModelChanged", "model": {"id": "p900"}, "attr": "children", "new": [button("p901", "Run sweep")]}]})
    document = SimpleNamespace(msgtype="PULL-DOC-REPLY", content={"doc": {"roots": [button("p10", "Run")]}})
    session = LightSession("http://127.0.0.1:1", "reservoir")
    incoming, sent = [early_patch, document], []

    async def next_message():
        return incoming.pop(0)

    async def send(msgtype, content):
        sent.append(msgtype)

    session._next_message, session._send = next_message, send
    asyncio.run(session._pull_document())
    assert session.find(name="Button", label="Run") == "p10"
    assert session.find(name="Button", label="Run sweep") == "p901"
    assert sent == ["PULL-DOC-REQ", "PATCH-DOC"]   # the pull, then "document ready"
