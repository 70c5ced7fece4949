"""What a BPMN or DMN file holds, read the way modellers and the OMG schemas see it.

Namespaces, element kinds, the XSD validation Camunda Modeler and bpmn.io rely on (the BPMN 2.0 and
DMN 1.3 schemas SpiffWorkflow ships), and which elements of a BPMN file need a shape or an edge in its
diagram to be seen at all.
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Iterator
from pathlib import Path

import SpiffWorkflow.bpmn.parser as _spiff_bpmn_parser
import SpiffWorkflow.dmn.parser as _spiff_dmn_parser
from lxml import etree

from engine.parsing.xml import parse_xml

BPMN_NS = "http://www.omg.org/spec/BPMN/20100524/MODEL"
BPMNDI_NS = "http://www.omg.org/spec/BPMN/20100524/DI"
DC_NS = "http://www.omg.org/spec/DD/20100524/DC"
DI_NS = "http://www.omg.org/spec/DD/20100524/DI"
CAMUNDA_NS = "http://camunda.org/schema/1.0/bpmn"
DMNDI13_NS = "https://www.omg.org/spec/DMN/20191111/DMNDI/"

BPMN_XSD = Path(_spiff_bpmn_parser.__file__).parent / "schema" / "BPMN20.xsd"
DMN13_XSD = Path(_spiff_dmn_parser.__file__).parent / "schema" / "DMN13.xsd"

GATEWAYS = frozenset({"exclusiveGateway", "inclusiveGateway", "parallelGateway", "eventBasedGateway", "complexGateway"})
EVENTS = frozenset({"startEvent", "endEvent", "intermediateCatchEvent", "intermediateThrowEvent", "boundaryEvent"})
SUBPROCESSES = frozenset({"subProcess", "transaction", "adHocSubProcess"})
ACTIVITIES = frozenset(
    {
        "task",
        "userTask",
        "manualTask",
        "scriptTask",
        "serviceTask",
        "sendTask",
        "receiveTask",
        "businessRuleTask",
        "callActivity",
    }
)
FLOW_NODES = GATEWAYS | EVENTS | SUBPROCESSES | ACTIVITIES
#: Artifacts and data elements that are drawn as shapes of their own.
DATA_SHAPES = frozenset({"dataObjectReference", "dataStoreReference"})
ARTIFACT_SHAPES = frozenset({"textAnnotation"}) | DATA_SHAPES
DATA_ASSOCIATIONS = frozenset({"dataInputAssociation", "dataOutputAssociation"})


def bpmn(tag: str) -> str:
    """Clark notation of a BPMN model element."""
    return f"{{{BPMN_NS}}}{tag}"


def localname(element: etree._Element) -> str:
    """Local name of a BPMN element; "" for comments, processing instructions and other namespaces."""
    if not isinstance(element.tag, str):
        return ""
    qname = etree.QName(element)
    return qname.localname if qname.namespace == BPMN_NS else ""


def bpmn_children(parent: etree._Element, *names: str) -> list[etree._Element]:
    """The BPMN child elements of ``parent`` with one of the given local names, in document order."""
    return [child for child in parent if localname(child) in names]


def containers(root: etree._Element) -> Iterator[etree._Element]:
    """Every process and (nested) subprocess of a definitions element, in document order."""
    yield from root.iter(bpmn("process"), bpmn("subProcess"), bpmn("transaction"), bpmn("adHocSubProcess"))


def _lanes(lane_set: etree._Element) -> Iterator[etree._Element]:
    for lane in bpmn_children(lane_set, "lane"):
        yield lane
        for child_set in bpmn_children(lane, "childLaneSet"):
            yield from _lanes(child_set)


def process_lanes(process: etree._Element) -> list[etree._Element]:
    """Every lane of a process, nested ones after their parent, in document order."""
    return [lane for lane_set in bpmn_children(process, "laneSet") for lane in _lanes(lane_set)]


def diagram_elements(root: etree._Element) -> list[etree._Element]:
    """The elements of a BPMN document that need a BPMNShape or BPMNEdge to be seen in a modeller.

    Flow nodes (boundary events and those in subprocesses too), sequence flows, lanes, data object and
    data store references, text annotations, associations and data associations (with an id), and the
    participants and message flows of collaborations. Message, signal and error definitions, data objects
    themselves and groups have no shape of their own here.
    """
    wanted: list[etree._Element] = []
    for element in root.iter():
        name = localname(element)
        if not name or element.get("id") is None:
            continue
        parent = element.getparent()
        parent_name = localname(parent) if parent is not None else ""
        if parent_name in ("process", "collaboration") or parent_name in SUBPROCESSES:
            if name in FLOW_NODES or name in ARTIFACT_SHAPES or name in ("sequenceFlow", "association"):
                wanted.append(element)
            elif name in ("participant", "messageFlow"):
                wanted.append(element)
        elif name == "lane":
            wanted.append(element)
        elif name in DATA_ASSOCIATIONS and parent_name in FLOW_NODES:
            wanted.append(element)
    return wanted


def drawn_ids(root: etree._Element) -> set[str]:
    """Ids of the elements some BPMNShape or BPMNEdge of the document draws."""
    return {
        element.get("bpmnElement")
        for element in root.iter(f"{{{BPMNDI_NS}}}BPMNShape", f"{{{BPMNDI_NS}}}BPMNEdge")
        if element.get("bpmnElement")
    }


# ---------------------------------------------------------------------------------------------------------
# XSD validation

_schema_lock = threading.Lock()
_PREFIXES = (
    (BPMN_NS, "bpmn:"),
    (BPMNDI_NS, "bpmndi:"),
    (DC_NS, "dc:"),
    (DI_NS, "di:"),
    ("https://www.omg.org/spec/DMN/20191111/MODEL/", "dmn:"),
    (DMNDI13_NS, "dmndi:"),
)


@functools.cache
def _schema(path: Path) -> etree.XMLSchema:
    # The schemas import their siblings by relative file name: nothing is fetched over the network.
    parser = etree.XMLParser(no_network=True, resolve_entities=False)
    return etree.XMLSchema(etree.parse(str(path), parser))


def _xsd_errors(schema_path: Path, content: bytes, filename: str) -> list[str]:
    root = parse_xml(content, filename)
    with _schema_lock:  # an XMLSchema object keeps its error log: one validation at a time
        schema = _schema(schema_path)
        if schema.validate(root.getroottree()):
            return []
        return [f"{filename}, line {error.line}: {_readable(error.message)}" for error in schema.error_log]


def _readable(message: str) -> str:
    """An XSD message with the usual prefixes in place of namespace URIs."""
    for uri, prefix in _PREFIXES:
        message = message.replace(f"{{{uri}}}", prefix)
    return message


def bpmn_xsd_errors(content: bytes, filename: str = "<bpmn>") -> list[str]:
    """What the BPMN 2.0 XSD (with BPMNDI, DC and DI) finds wrong in a file; [] when it is valid.

    Camunda's attributes and extension elements are in other namespaces, which the schema admits
    through its lax wildcards.
    """
    return _xsd_errors(BPMN_XSD, content, filename)


def dmn_xsd_errors(content: bytes, filename: str = "<dmn>") -> list[str]:
    """What the DMN 1.3 XSD (with DMNDI) finds wrong in a file; [] when it is valid."""
    return _xsd_errors(DMN13_XSD, content, filename)
