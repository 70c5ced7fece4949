"""Automatic diagram layout: engine/modelling/layout.py and ``plusma layout``."""

from __future__ import annotations

import re
from itertools import combinations, pairwise
from pathlib import Path

import pytest
from lxml import etree

from engine.errors import InvalidModel
from engine.modelling import bpmn_xsd_errors, layout_bpmn, missing_diagram_elements
from engine.modelling.bpmn_files import BPMN_NS, BPMNDI_NS, DC_NS, DI_NS
from engine.parsing import parse_deployment
from web import cli

FIXTURES = Path(__file__).parent / "fixtures"
NS = {"bpmn": BPMN_NS, "bpmndi": BPMNDI_NS, "dc": DC_NS, "di": DI_NS}
CAMUNDA_NS = "http://camunda.org/schema/1.0/bpmn"
_FLOW_NODE_NAMES = (
    "task userTask manualTask scriptTask serviceTask sendTask receiveTask businessRuleTask callActivity "
    "subProcess transaction adHocSubProcess startEvent endEvent intermediateCatchEvent intermediateThrowEvent "
    "boundaryEvent exclusiveGateway inclusiveGateway parallelGateway eventBasedGateway complexGateway"
).split()
_ARTIFACTS = ("textAnnotation", "dataObjectReference", "dataStoreReference")


def definitions(*parts: str, default_namespace: bool = False) -> bytes:
    """A BPMN file without a diagram, written the way a person writes one by hand."""
    prefix = "" if default_namespace else "bpmn:"
    declaration = f'xmlns="{BPMN_NS}"' if default_namespace else f'xmlns:bpmn="{BPMN_NS}"'
    body = "\n".join(parts)
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f'<{prefix}definitions {declaration} xmlns:camunda="{CAMUNDA_NS}" '
        'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" id="Defs" targetNamespace="http://plusma.lv/test">\n'
        f"{body}\n"
        f"</{prefix}definitions>\n"
    ).encode()


def process(body: str, pid: str = "p", name: str = "Process") -> str:
    return f'  <bpmn:process id="{pid}" name="{name}" isExecutable="true">\n{body}\n  </bpmn:process>'


def flows(*pairs: str, prefix: str = "f") -> str:
    """Sequence flows from "a>b" or "a>b:name" strings."""
    out = []
    for index, pair in enumerate(pairs, 1):
        ends, _, name = pair.partition(":")
        source, target = ends.split(">")
        label = f' name="{name}"' if name else ""
        out.append(f'    <bpmn:sequenceFlow id="{prefix}{index}"{label} sourceRef="{source}" targetRef="{target}" />')
    return "\n".join(out)


LINEAR = definitions(
    process(
        '    <bpmn:startEvent id="start" name="Pieteikums saņemts" />\n'
        '    <bpmn:userTask id="task" name="Reģistrēt" />\n'
        '    <bpmn:endEvent id="end" name="Beigas" />\n' + flows("start>task", "task>end")
    )
)

XOR = definitions(
    process(
        '    <bpmn:startEvent id="start" />\n'
        '    <bpmn:userTask id="classify" name="Klasificēt" />\n'
        '    <bpmn:exclusiveGateway id="split" name="Vai vienkāršs?" default="f3" />\n'
        '    <bpmn:userTask id="simple" name="Atrisināt" />\n'
        '    <bpmn:userTask id="expert" name="Eskalēt" />\n'
        '    <bpmn:userTask id="expert2" name="Izpildīt" />\n'
        '    <bpmn:exclusiveGateway id="merge" />\n'
        '    <bpmn:endEvent id="end" />\n'
        + flows(
            "start>classify",
            "classify>split",
            "split>simple:jā",
            "split>expert:nē",
            "split>merge:nekas nav jādara",
            "simple>merge",
            "expert>expert2",
            "expert2>merge",
            "merge>end",
        )
    )
)

PARALLEL = definitions(
    process(
        '    <bpmn:startEvent id="start" />\n'
        '    <bpmn:parallelGateway id="fork" />\n'
        '    <bpmn:task id="a" name="A" />\n'
        '    <bpmn:task id="b" name="B" />\n'
        '    <bpmn:task id="c" name="C" />\n'
        '    <bpmn:parallelGateway id="join" />\n'
        '    <bpmn:endEvent id="end" />\n'
        + flows("start>fork", "fork>a", "fork>b", "fork>c", "a>join", "b>join", "c>join", "join>end")
    )
)

LOOP = definitions(
    process(
        '    <bpmn:startEvent id="start" />\n'
        '    <bpmn:userTask id="draft" name="Sagatavot" />\n'
        '    <bpmn:userTask id="review" name="Pārbaudīt" />\n'
        '    <bpmn:exclusiveGateway id="ok" name="Pieņemts?" />\n'
        '    <bpmn:endEvent id="end" />\n'
        '    <bpmn:userTask id="self" name="Atkārtot" />\n'
        + flows("start>draft", "draft>review", "review>ok", "ok>end:jā", "ok>draft:nē", "self>self", "ok>self")
    )
)

LANES = definitions(
    process(
        '    <bpmn:laneSet id="LaneSet_1">\n'
        '      <bpmn:lane id="Lane_kac" name="kac">\n'
        "        <bpmn:flowNodeRef>start</bpmn:flowNodeRef>\n"
        "        <bpmn:flowNodeRef>register</bpmn:flowNodeRef>\n"
        "        <bpmn:flowNodeRef>route</bpmn:flowNodeRef>\n"
        "        <bpmn:flowNodeRef>inform</bpmn:flowNodeRef>\n"
        "        <bpmn:flowNodeRef>end</bpmn:flowNodeRef>\n"
        "      </bpmn:lane>\n"
        '      <bpmn:lane id="Lane_l2" name="l2">\n'
        "        <bpmn:flowNodeRef>solve</bpmn:flowNodeRef>\n"
        "        <bpmn:flowNodeRef>check</bpmn:flowNodeRef>\n"
        "      </bpmn:lane>\n"
        '      <bpmn:lane id="Lane_owner" name="pakalpojuma-turetajs">\n'
        '        <bpmn:childLaneSet id="LaneSet_owner">\n'
        '          <bpmn:lane id="Lane_owner_a" name="A">\n'
        "            <bpmn:flowNodeRef>approve</bpmn:flowNodeRef>\n"
        "          </bpmn:lane>\n"
        '          <bpmn:lane id="Lane_owner_b" name="B">\n'
        "            <bpmn:flowNodeRef>archive</bpmn:flowNodeRef>\n"
        "          </bpmn:lane>\n"
        "        </bpmn:childLaneSet>\n"
        "      </bpmn:lane>\n"
        "    </bpmn:laneSet>\n"
        '    <bpmn:startEvent id="start" name="Saņemts" />\n'
        '    <bpmn:userTask id="register" name="Reģistrēt" camunda:candidateGroups="kac" />\n'
        '    <bpmn:exclusiveGateway id="route" name="Kam?" />\n'
        '    <bpmn:userTask id="solve" name="Atrisināt" camunda:candidateGroups="l2" />\n'
        '    <bpmn:userTask id="check" name="Pārbaudīt" camunda:candidateGroups="l2" />\n'
        '    <bpmn:userTask id="approve" name="Apstiprināt" camunda:candidateGroups="pakalpojuma-turetajs" />\n'
        '    <bpmn:userTask id="archive" name="Arhivēt" camunda:candidateGroups="pakalpojuma-turetajs" />\n'
        '    <bpmn:userTask id="inform" name="Informēt" camunda:candidateGroups="kac" />\n'
        '    <bpmn:userTask id="nolane" name="Bez joslas" camunda:candidateGroups="kac" />\n'
        '    <bpmn:endEvent id="end" />\n'
        + flows(
            "start>register",
            "register>route",
            "route>solve:L2",
            "route>approve:turētājs",
            "solve>check",
            "check>inform",
            "approve>archive",
            "archive>inform",
            "inform>nolane",
            "nolane>end",
        ),
        pid="lanes",
        name="Joslas",
    )
)

BOUNDARY = definitions(
    process(
        '    <bpmn:startEvent id="start" />\n'
        '    <bpmn:userTask id="work" name="Diagnosticēt" />\n'
        '    <bpmn:boundaryEvent id="sla" name="SLA termiņš" attachedToRef="work">\n'
        "      <bpmn:timerEventDefinition><bpmn:timeDuration>PT4H</bpmn:timeDuration></bpmn:timerEventDefinition>\n"
        "    </bpmn:boundaryEvent>\n"
        '    <bpmn:boundaryEvent id="remind" name="Atgādinājums" attachedToRef="work" cancelActivity="false">\n'
        "      <bpmn:timerEventDefinition><bpmn:timeCycle>R3/PT1H</bpmn:timeCycle></bpmn:timerEventDefinition>\n"
        "    </bpmn:boundaryEvent>\n"
        '    <bpmn:boundaryEvent id="late" attachedToRef="work" cancelActivity="false">\n'
        "      <bpmn:timerEventDefinition><bpmn:timeCycle>R3/PT2H</bpmn:timeCycle></bpmn:timerEventDefinition>\n"
        "    </bpmn:boundaryEvent>\n"
        '    <bpmn:userTask id="escalate" name="Eskalēt" />\n'
        '    <bpmn:scriptTask id="note" name="Piezīme" />\n'
        '    <bpmn:endEvent id="end" />\n'
        '    <bpmn:endEvent id="end_escalated" />\n'
        '    <bpmn:endEvent id="end_noted" />\n'
        '    <bpmn:endEvent id="end_late" />\n'
        + flows(
            "start>work",
            "work>end",
            "sla>escalate:termiņš",
            "escalate>work:atpakaļ",
            "remind>note",
            "note>end_noted",
            "late>end_late",
        )
        + "\n"
        + flows("escalate>end_escalated", prefix="g")
    )
)

SUBPROCESS = definitions(
    process(
        '    <bpmn:startEvent id="start" />\n'
        '    <bpmn:subProcess id="sub" name="Pārbaudes">\n'
        '      <bpmn:startEvent id="sub_start" />\n'
        '      <bpmn:exclusiveGateway id="sub_gw" />\n'
        '      <bpmn:task id="sub_a" name="A" />\n'
        '      <bpmn:task id="sub_b" name="B" />\n'
        '      <bpmn:subProcess id="inner" name="Iekšējais">\n'
        '        <bpmn:startEvent id="inner_start" />\n'
        '        <bpmn:endEvent id="inner_end" />\n'
        '        <bpmn:sequenceFlow id="i1" sourceRef="inner_start" targetRef="inner_end" />\n'
        "      </bpmn:subProcess>\n"
        '      <bpmn:endEvent id="sub_end" />\n'
        '      <bpmn:boundaryEvent id="sub_error" attachedToRef="sub_a">\n'
        "        <bpmn:errorEventDefinition />\n"
        "      </bpmn:boundaryEvent>\n"
        '      <bpmn:endEvent id="sub_failed" />\n'
        '      <bpmn:sequenceFlow id="s1" sourceRef="sub_start" targetRef="sub_gw" />\n'
        '      <bpmn:sequenceFlow id="s2" sourceRef="sub_gw" targetRef="sub_a" />\n'
        '      <bpmn:sequenceFlow id="s3" sourceRef="sub_gw" targetRef="sub_b" />\n'
        '      <bpmn:sequenceFlow id="s4" sourceRef="sub_a" targetRef="inner" />\n'
        '      <bpmn:sequenceFlow id="s5" sourceRef="sub_b" targetRef="inner" />\n'
        '      <bpmn:sequenceFlow id="s6" sourceRef="inner" targetRef="sub_end" />\n'
        '      <bpmn:sequenceFlow id="s7" sourceRef="sub_error" targetRef="sub_failed" />\n'
        "    </bpmn:subProcess>\n"
        '    <bpmn:boundaryEvent id="sub_timer" name="Par ilgu" attachedToRef="sub">\n'
        "      <bpmn:timerEventDefinition><bpmn:timeDuration>PT1H</bpmn:timeDuration></bpmn:timerEventDefinition>\n"
        "    </bpmn:boundaryEvent>\n"
        '    <bpmn:subProcess id="empty" name="Tukšs" />\n'
        '    <bpmn:callActivity id="call" name="Izsaukt" calledElement="other" />\n'
        '    <bpmn:subProcess id="on_message" name="Ziņa" triggeredByEvent="true">\n'
        '      <bpmn:startEvent id="msg_start" isInterrupting="false">'
        "<bpmn:messageEventDefinition /></bpmn:startEvent>\n"
        '      <bpmn:task id="msg_task" name="Reaģēt" />\n'
        '      <bpmn:endEvent id="msg_end" />\n'
        '      <bpmn:sequenceFlow id="m1" sourceRef="msg_start" targetRef="msg_task" />\n'
        '      <bpmn:sequenceFlow id="m2" sourceRef="msg_task" targetRef="msg_end" />\n'
        "    </bpmn:subProcess>\n"
        '    <bpmn:endEvent id="end" />\n'
        '    <bpmn:endEvent id="timed_out" />\n'
        + flows("start>sub", "sub>empty", "empty>call", "call>end", "sub_timer>timed_out")
    )
)

POOLS = definitions(
    "  <!-- two pools talking to each other -->\n"
    '  <bpmn:collaboration id="Collab">\n'
    '    <bpmn:participant id="Pool_desk" name="Service desk" processRef="desk" />\n'
    '    <bpmn:participant id="Pool_requester" name="Requester" />\n'
    '    <bpmn:messageFlow id="mf_in" name="pieteikums" sourceRef="Pool_requester" targetRef="desk_start" />\n'
    '    <bpmn:messageFlow id="mf_out" name="atbilde" sourceRef="desk_send" targetRef="Pool_requester" />\n'
    '    <bpmn:messageFlow id="mf_link" sourceRef="desk_send" targetRef="problem_start" />\n'
    '    <bpmn:textAnnotation id="note_collab"><bpmn:text>Sarunas starp iestādēm</bpmn:text></bpmn:textAnnotation>\n'
    '    <bpmn:association id="assoc_collab" sourceRef="note_collab" targetRef="desk_start" />\n'
    "  </bpmn:collaboration>\n"
    '  <bpmn:message id="Msg_1" name="pieteikums" />',
    process(
        '    <bpmn:startEvent id="desk_start" name="Saņemts"><bpmn:messageEventDefinition messageRef="Msg_1" />'
        "</bpmn:startEvent>\n"
        '    <bpmn:userTask id="desk_work" name="Apstrādāt">\n'
        '      <bpmn:dataOutputAssociation id="dout">'
        "<bpmn:targetRef>record</bpmn:targetRef></bpmn:dataOutputAssociation>\n"
        "    </bpmn:userTask>\n"
        '    <bpmn:sendTask id="desk_send" name="Atbildēt">\n'
        '      <bpmn:property id="prop_in" name="__targetRef_placeholder" />\n'
        '      <bpmn:dataInputAssociation id="din"><bpmn:sourceRef>record</bpmn:sourceRef>'
        "<bpmn:targetRef>prop_in</bpmn:targetRef></bpmn:dataInputAssociation>\n"
        "    </bpmn:sendTask>\n"
        '    <bpmn:endEvent id="desk_end" />\n'
        '    <bpmn:dataObject id="record_data" />\n'
        '    <bpmn:dataObjectReference id="record" name="Pieteikuma ieraksts" dataObjectRef="record_data" />\n'
        + flows("desk_start>desk_work", "desk_work>desk_send", "desk_send>desk_end")
        + '\n    <bpmn:textAnnotation id="note"><bpmn:text>Atbild 3 darba dienās</bpmn:text></bpmn:textAnnotation>\n'
        '    <bpmn:association id="assoc" sourceRef="desk_work" targetRef="note" />',
        pid="desk",
        name="Service desk",
    ),
    process(
        '    <bpmn:startEvent id="problem_start" />\n'
        '    <bpmn:task id="problem_work" name="Analizēt" />\n'
        '    <bpmn:endEvent id="problem_end" />\n'
        + flows("problem_start>problem_work", "problem_work>problem_end", prefix="pf"),
        pid="problem",
        name="Problem",
    ),
)

DEFAULT_NAMESPACE = (
    definitions(
        process(
            "    <!-- a comment the layout keeps -->\n"
            '    <bpmn:startEvent id="start" />\n'
            '    <bpmn:task id="task" name="a &lt; b &amp;&amp; c &gt; d" />\n'
            '    <bpmn:endEvent id="end" />\n' + flows("start>task", "task>end")
        ),
        default_namespace=True,
    )
    .decode()
    .replace("bpmn:", "")
    .encode()
)

MODELS = {
    "linear": LINEAR,
    "xor": XOR,
    "parallel": PARALLEL,
    "loop": LOOP,
    "lanes": LANES,
    "boundary": BOUNDARY,
    "subprocess": SUBPROCESS,
    "pools": POOLS,
    "default-namespace": DEFAULT_NAMESPACE,
}


# ---------------------------------------------------------------------------------------------------------
# Reading a diagram back


class Box:
    def __init__(self, bounds: etree._Element) -> None:
        self.x, self.y = float(bounds.get("x")), float(bounds.get("y"))
        self.w, self.h = float(bounds.get("width")), float(bounds.get("height"))

    @property
    def right(self) -> float:
        return self.x + self.w

    @property
    def bottom(self) -> float:
        return self.y + self.h

    def overlaps(self, other: Box) -> bool:
        return self.x < other.right and other.x < self.right and self.y < other.bottom and other.y < self.bottom

    def inside(self, other: Box) -> bool:
        return other.x <= self.x and other.y <= self.y and self.right <= other.right and self.bottom <= other.bottom

    def on_border(self, point: tuple[float, float]) -> bool:
        x, y = point
        on_vertical = x in (self.x, self.right) and self.y <= y <= self.bottom
        on_horizontal = y in (self.y, self.bottom) and self.x <= x <= self.right
        return on_vertical or on_horizontal

    def __repr__(self) -> str:
        return f"Box({self.x}, {self.y}, {self.w}, {self.h})"


class Diagram:
    def __init__(self, xml: bytes) -> None:
        self.root = etree.fromstring(xml)
        self.elements = {e.get("id"): e for e in self.root.iter() if isinstance(e.tag, str) and e.get("id")}
        self.shapes: dict[str, Box] = {}
        self.shape_elements: dict[str, etree._Element] = {}
        self.edges: dict[str, list[tuple[float, float]]] = {}
        self.labels: dict[str, Box] = {}
        for shape in self.root.iterfind(".//bpmndi:BPMNShape", NS):
            self.shapes[shape.get("bpmnElement")] = Box(shape.find("dc:Bounds", NS))
            self.shape_elements[shape.get("bpmnElement")] = shape
            label = shape.find("bpmndi:BPMNLabel/dc:Bounds", NS)
            if label is not None:
                self.labels[shape.get("bpmnElement")] = Box(label)
        for edge in self.root.iterfind(".//bpmndi:BPMNEdge", NS):
            self.edges[edge.get("bpmnElement")] = [
                (float(p.get("x")), float(p.get("y"))) for p in edge.findall("di:waypoint", NS)
            ]
            label = edge.find("bpmndi:BPMNLabel/dc:Bounds", NS)
            if label is not None:
                self.labels[edge.get("bpmnElement")] = Box(label)

    def local(self, element_id: str) -> str:
        return etree.QName(self.elements[element_id]).localname


def semantic(xml: bytes, without: tuple[str, ...] = ()) -> bytes:
    """The file without diagrams (and without the given elements), canonical and without formatting."""
    root = etree.fromstring(xml)
    for element in list(root.iterfind("bpmndi:BPMNDiagram", NS)) + [
        e for e in root.iter() if isinstance(e.tag, str) and e.get("id") in without
    ]:
        element.getparent().remove(element)
    for element in root.iter():
        if element.text is not None and not element.text.strip():
            element.text = None
        if element.tail is not None and not element.tail.strip():
            element.tail = None
    return etree.tostring(root, method="c14n")


def without_diagram_text(xml: bytes) -> bytes:
    return re.sub(rb"[ \t]*<(?:bpmndi:)?BPMNDiagram\b.*?</(?:bpmndi:)?BPMNDiagram>\r?\n", b"", xml, flags=re.DOTALL)


def check_layout(source: bytes) -> tuple[bytes, Diagram]:
    """Lay out a model and check everything a laid out diagram promises; return it."""
    out = layout_bpmn(source)
    assert bpmn_xsd_errors(out) == []
    assert missing_diagram_elements(out) == []
    assert layout_bpmn(out) == out, "laying out twice gives the same bytes"
    assert layout_bpmn(source) == out, "the same input gives the same bytes"
    diagram = Diagram(out)
    elements = diagram.elements
    boxes = diagram.shapes

    # The semantic part is unchanged, but for a collaboration the layout adds.
    added = [i for i in elements if i.startswith(("Collaboration_", "Participant_")) and i.encode() not in source]
    assert semantic(out, tuple(added)) == semantic(source)

    # Containers: what they hold lies inside them and does not overlap.
    groups: dict[tuple[str, str | None], list[str]] = {}
    lane_of = {}
    for lane in diagram.root.iterfind(".//bpmn:lane", NS):
        for ref in lane.findall("bpmn:flowNodeRef", NS):
            lane_of.setdefault(ref.text.strip(), lane.get("id"))
    for element_id, element in elements.items():
        name = etree.QName(element).localname
        if name not in _FLOW_NODE_NAMES and name not in _ARTIFACTS:
            continue
        parent = element.getparent()
        container = parent.get("id")
        if name == "boundaryEvent":
            host = boxes[element.get("attachedToRef")]
            box = boxes[element_id]
            center = (box.x + box.w / 2, box.y + box.h / 2)
            assert center[1] == host.bottom and host.x <= center[0] <= host.right, f"{element_id} on its host"
            continue
        lane = lane_of.get(element_id) if name in _FLOW_NODE_NAMES else None
        groups.setdefault((container, lane), []).append(element_id)
        if container in boxes:  # subprocess or participant
            assert boxes[element_id].inside(boxes[container]), f"{element_id} inside {container}"
        if lane:
            assert boxes[element_id].inside(boxes[lane]), f"{element_id} inside its lane {lane}"
    for (container, _lane), members in groups.items():
        artifacts = [m for m in members if diagram.local(m) in _ARTIFACTS]
        nodes = [m for m in members if m not in artifacts]
        for a, b in combinations(nodes, 2):
            assert not boxes[a].overlaps(boxes[b]), f"{a} and {b} overlap"
        for artifact in artifacts:  # annotations and data objects cover no node of their container
            for other in [m for (c, _), ms in groups.items() if c == container for m in ms if m != artifact]:
                assert not boxes[artifact].overlaps(boxes[other]), f"{artifact} covers {other}"
    for participant in diagram.root.iterfind(".//bpmn:participant", NS):
        process_element = elements.get(participant.get("processRef"))
        if process_element is None:
            continue
        for lane in process_element.iterfind(".//bpmn:lane", NS):
            assert boxes[lane.get("id")].inside(boxes[participant.get("id")])
            for child in lane.iterfind("bpmn:childLaneSet/bpmn:lane", NS):
                assert boxes[child.get("id")].inside(boxes[lane.get("id")])
        for node_id in (e.get("id") for e in process_element.iter() if e.get("id") in boxes):
            assert boxes[node_id].inside(boxes[participant.get("id")]), f"{node_id} inside its pool"

    # Sequence flows: orthogonal, from the source's border to the target's.
    for flow in diagram.root.iterfind(".//bpmn:sequenceFlow", NS):
        points = diagram.edges[flow.get("id")]
        assert len(points) >= 2
        assert boxes[flow.get("sourceRef")].on_border(points[0]), f"{flow.get('id')} starts on its source"
        assert boxes[flow.get("targetRef")].on_border(points[-1]), f"{flow.get('id')} ends on its target"
        for (ax, ay), (bx, by) in pairwise(points):
            assert ax == bx or ay == by, f"{flow.get('id')} is orthogonal"
        if flow.get("name"):
            assert flow.get("id") in diagram.labels
    for flow in diagram.root.iterfind(".//bpmn:messageFlow", NS):
        points = diagram.edges[flow.get("id")]
        assert boxes[flow.get("sourceRef")].on_border(points[0])
        assert boxes[flow.get("targetRef")].on_border(points[-1])
    for association in diagram.root.iterfind(".//bpmn:association", NS):
        points = diagram.edges[association.get("id")]
        assert boxes[association.get("sourceRef")].on_border(points[0])
        assert boxes[association.get("targetRef")].on_border(points[-1])

    # Labels of named events and gateways, markers, sizes.
    for element_id, element in elements.items():
        name = etree.QName(element).localname
        if name.endswith(("Event", "Gateway")) and element.get("name"):
            assert element_id in diagram.labels, f"{element_id} has a label"
        if name == "exclusiveGateway":
            assert diagram.shape_elements[element_id].get("isMarkerVisible") == "true"
        if name.endswith("Event"):
            assert (boxes[element_id].w, boxes[element_id].h) == (36, 36)
        if name.endswith("Gateway"):
            assert (boxes[element_id].w, boxes[element_id].h) == (50, 50)
        if name.endswith("Task") or name in ("task", "callActivity"):
            assert boxes[element_id].h == 80 and boxes[element_id].w >= 100
            boundaries = [e for e in elements.values() if e.get("attachedToRef") == element_id]
            assert boxes[element_id].w == 100 or len(boundaries) > 2, "wider only to hold boundary events"
    return out, diagram


# ---------------------------------------------------------------------------------------------------------
# The models


@pytest.mark.parametrize("name", MODELS)
def test_every_model_lays_out_validly(name):
    source = MODELS[name]
    assert missing_diagram_elements(source), "the hand-written model has no diagram yet"
    check_layout(source)


def test_a_file_without_collaboration_keeps_its_bytes():
    out, _ = check_layout(LINEAR)
    assert without_diagram_text(out) == LINEAR
    assert out.startswith(b'<?xml version="1.0" encoding="UTF-8"?>\n')
    assert b"<bpmndi:BPMNDiagram " in out and b'xmlns:bpmndi="' in out  # declared where it is used


def test_left_to_right_columns_and_rows():
    _, diagram = check_layout(XOR)
    x = {i: diagram.shapes[i].x + diagram.shapes[i].w / 2 for i in diagram.shapes}
    y = {i: diagram.shapes[i].y + diagram.shapes[i].h / 2 for i in diagram.shapes}
    assert x["start"] < x["classify"] < x["split"] < x["simple"] == x["expert"] < x["expert2"] < x["merge"] < x["end"]
    assert y["start"] == y["classify"] == y["split"] == y["simple"] == y["merge"] == y["end"], "the main path is a row"
    assert y["expert"] > y["simple"], "the second branch is the row below"
    assert x["expert2"] - x["expert"] == 160, "tasks are 160 px apart"
    # The flow that skips two columns does not run through the tasks in between.
    skip = diagram.edges["f5"]
    assert len(skip) > 2
    assert diagram.labels["f3"] and diagram.labels["split"]


def test_parallel_branches_stack_in_one_column():
    _, diagram = check_layout(PARALLEL)
    a, b, c = (diagram.shapes[i] for i in "abc")
    assert a.x == b.x == c.x
    assert b.y - a.y == c.y - b.y == 110, "rows are 110 px apart"


def test_loops_go_back_under_the_nodes():
    _, diagram = check_layout(LOOP)
    back = diagram.edges["f5"]  # ok -> draft
    lowest = max(diagram.shapes[i].bottom for i in ("draft", "review", "ok"))
    assert max(y for _, y in back) > lowest, "the loop runs below the nodes it skips"
    assert diagram.shapes["draft"].x < diagram.shapes["ok"].x
    self_loop = diagram.edges["f6"]
    assert len(self_loop) >= 4 and self_loop[0] != self_loop[-1]


def test_lanes_get_a_pool_and_bands():
    out, diagram = check_layout(LANES)
    root = etree.fromstring(out)
    collaboration = root[0]
    assert collaboration.tag == f"{{{BPMN_NS}}}collaboration" and collaboration.get("id") == "Collaboration_lanes"
    [participant] = collaboration
    assert dict(participant.attrib) == {"id": "Participant_lanes", "name": "Joslas", "processRef": "lanes"}
    assert root.find(".//bpmndi:BPMNPlane", NS).get("bpmnElement") == "Collaboration_lanes"
    assert diagram.shape_elements["Participant_lanes"].get("isHorizontal") == "true"
    pool = diagram.shapes["Participant_lanes"]
    kac, l2, owner = (diagram.shapes[i] for i in ("Lane_kac", "Lane_l2", "Lane_owner"))
    assert kac.x == l2.x == owner.x == pool.x + 30, "the pool's label takes 30 px"
    assert kac.bottom == l2.y and l2.bottom == owner.y, "lanes are stacked bands"
    a, b = diagram.shapes["Lane_owner_a"], diagram.shapes["Lane_owner_b"]
    assert a.x == owner.x + 30 and a.y == owner.y and b.y == a.bottom and b.bottom == owner.bottom
    assert a.right == b.right == kac.right == pool.right
    # A node no lane names still lies in the pool, below the lanes.
    assert diagram.shapes["nolane"].y >= owner.bottom
    # The collaboration was inserted as text, indented like its neighbours; the rest keeps its bytes.
    lines = out.decode().splitlines()
    assert lines[2:5] == [
        '  <bpmn:collaboration id="Collaboration_lanes">',
        '    <bpmn:participant id="Participant_lanes" name="Joslas" processRef="lanes" />',
        "  </bpmn:collaboration>",
    ]
    assert layout_free(out) == LANES


def layout_free(out: bytes) -> bytes:
    return without_diagram_text(out).replace(
        b'  <bpmn:collaboration id="Collaboration_lanes">\n'
        b'    <bpmn:participant id="Participant_lanes" name="Joslas" processRef="lanes" />\n'
        b"  </bpmn:collaboration>\n",
        b"",
    )


def test_boundary_events_sit_on_their_host_and_their_flows_leave_downwards():
    _, diagram = check_layout(BOUNDARY)
    host = diagram.shapes["work"]
    events = [diagram.shapes[i] for i in ("sla", "remind", "late")]
    for a, b in combinations(events, 2):
        assert not a.overlaps(b), "boundary events are spread along the bottom edge"
    for flow_id, boundary in (("f3", "sla"), ("f5", "remind"), ("f7", "late")):
        points = diagram.edges[flow_id]
        box = diagram.shapes[boundary]
        assert points[0] == (box.x + box.w / 2, box.bottom), "leaves from the event's bottom"
        assert points[1][0] == points[0][0] and points[1][1] > points[0][1], "first downwards"
    assert diagram.shapes["escalate"].y > host.y and diagram.shapes["note"].y > host.y
    assert "sla" in diagram.labels and "late" not in diagram.labels


def test_subprocesses_expand_around_their_content():
    out, diagram = check_layout(SUBPROCESS)
    shapes = diagram.shape_elements
    assert shapes["sub"].get("isExpanded") == "true" and shapes["inner"].get("isExpanded") == "true"
    assert shapes["empty"].get("isExpanded") == "false"
    assert (diagram.shapes["empty"].w, diagram.shapes["empty"].h) == (100, 80)
    assert diagram.shapes["inner"].inside(diagram.shapes["sub"])
    assert diagram.shapes["inner_start"].inside(diagram.shapes["inner"])
    # The event subprocess lies below the flow, not in a column of its own.
    assert diagram.shapes["on_message"].y > diagram.shapes["sub"].bottom
    assert diagram.shapes["msg_task"].inside(diagram.shapes["on_message"])


def test_two_pools_message_flows_annotations_and_data():
    out, diagram = check_layout(POOLS)
    root = etree.fromstring(out)
    assert [e.get("id") for e in root.iterfind("bpmn:collaboration/bpmn:participant", NS)] == [
        "Pool_desk",
        "Pool_requester",
        "Participant_problem",
    ], "the existing collaboration gets a pool for the process that had none"
    assert root.find(".//bpmndi:BPMNPlane", NS).get("bpmnElement") == "Collab"
    desk, requester, problem = (diagram.shapes[i] for i in ("Pool_desk", "Pool_requester", "Participant_problem"))
    assert desk.x == requester.x == problem.x and desk.w == requester.w == problem.w
    assert desk.bottom < requester.y and requester.bottom < problem.y, "pools are stacked"
    for flow_id in ("mf_in", "mf_out", "mf_link"):
        assert len(diagram.edges[flow_id]) >= 2
    assert "mf_in" in diagram.labels
    assert diagram.shapes["record"].w == 36 and "record" in diagram.labels
    assert {"dout", "din", "assoc", "assoc_collab"} <= set(diagram.edges)
    assert b"<!-- two pools talking to each other -->" in out


def test_default_namespace_comments_and_escapes_survive():
    out, _ = check_layout(DEFAULT_NAMESPACE)
    assert without_diagram_text(out) == DEFAULT_NAMESPACE
    assert b"<!-- a comment the layout keeps -->" in out and b"a &lt; b &amp;&amp; c &gt; d" in out


def test_an_existing_diagram_is_replaced():
    sample = (FIXTURES / "sample" / "pieteikuma_apstrade.bpmn").read_bytes()
    out, diagram = check_layout(sample)
    root = etree.fromstring(out)
    assert len(root.findall("bpmndi:BPMNDiagram", NS)) == 1
    ids = [e.get("id") for e in root.iter() if isinstance(e.tag, str) and e.get("id")]
    assert len(ids) == len(set(ids))
    assert semantic(out) == semantic(sample)
    assert without_diagram_text(out) == without_diagram_text(sample)


def test_missing_diagram_elements_names_what_is_not_drawn():
    sample = (FIXTURES / "sample" / "pieteikuma_apstrade.bpmn").read_bytes()
    assert missing_diagram_elements(sample) == []
    partial = re.sub(rb"\s*<bpmndi:BPMNShape id=\"Task_izpildit_di\".*?</bpmndi:BPMNShape>", b"", sample, flags=re.S)
    partial = re.sub(rb"\s*<bpmndi:BPMNEdge id=\"Flow_4_di\".*?</bpmndi:BPMNEdge>", b"", partial, flags=re.S)
    partial = re.sub(rb"\s*<bpmndi:BPMNShape id=\"Lane_l2_di\".*?</bpmndi:BPMNShape>", b"", partial, flags=re.S)
    assert missing_diagram_elements(partial) == ["Lane_l2", "Task_izpildit", "Flow_4"]
    assert missing_diagram_elements(LANES)[:3] == ["Lane_kac", "Lane_l2", "Lane_owner"]
    # A collaboration diagram does not show a process without a participant.
    second = sample.replace(
        b"</bpmn:process>",
        b'</bpmn:process>\n  <bpmn:process id="extra" isExecutable="false" />',
    )
    assert missing_diagram_elements(second) == ["extra"]


def _deployment_groups() -> list[dict[str, bytes]]:
    groups = [{path.name: path.read_bytes()} for path in sorted(FIXTURES.glob("*.bpmn"))]
    for folder in (FIXTURES / "models", FIXTURES / "sample"):
        groups.append({path.name: path.read_bytes() for path in sorted(folder.iterdir()) if path.is_file()})
    return groups


@pytest.mark.parametrize("files", _deployment_groups(), ids=lambda files: "+".join(sorted(files)))
def test_laid_out_files_deploy_to_the_same_processes(files):
    laid_out = {
        name: layout_bpmn(content, name) if name.endswith(".bpmn") else content for name, content in files.items()
    }
    for name, content in laid_out.items():
        if name.endswith(".bpmn"):
            assert bpmn_xsd_errors(content, name) == [] and missing_diagram_elements(content, name) == []

    def shape(deployment):
        return {p.key: sorted(p.spec.task_specs) for p in deployment.processes}

    assert shape(parse_deployment(laid_out)) == shape(parse_deployment(files))


def test_several_processes_get_one_pool_each():
    multi = (FIXTURES / "message_links.bpmn").read_bytes()
    out, diagram = check_layout(multi)
    participants = etree.fromstring(out).findall("bpmn:collaboration/bpmn:participant", NS)
    assert [p.get("processRef") for p in participants] == [
        "incidents_ar_problemu",
        "problema_no_incidenta",
        "zina_nevienam",
    ]
    pools = [diagram.shapes[p.get("id")] for p in participants]
    assert all(a.bottom < b.y and a.x == b.x and a.w == b.w for a, b in pairwise(pools))


def test_other_encodings_are_laid_out_through_the_tree():
    source = LINEAR.decode().replace('encoding="UTF-8"', 'encoding="ISO-8859-13"').encode("iso-8859-13")
    out = layout_bpmn(source)
    assert out.startswith(b"<?xml version='1.0' encoding='ISO-8859-13'?>")
    assert "Pieteikums saņemts".encode("iso-8859-13") in out
    assert bpmn_xsd_errors(out) == [] and missing_diagram_elements(out) == []
    assert semantic(out) == semantic(source)
    assert layout_bpmn(out) == out


def test_what_is_not_bpmn_is_refused():
    with pytest.raises(InvalidModel, match="not a BPMN 2.0 file"):
        layout_bpmn(b"<definitions/>")
    with pytest.raises(InvalidModel, match="DOCTYPE"):
        layout_bpmn(b'<!DOCTYPE x [<!ENTITY e "e">]>' + LINEAR.split(b"\n", 1)[1])
    with pytest.raises(InvalidModel):
        missing_diagram_elements(b"<bpmn:definitions")


# ---------------------------------------------------------------------------------------------------------
# plusma layout


def test_cli_check_and_rewrite(tmp_path, capsys):
    drawn = tmp_path / "drawn.bpmn"
    drawn.write_bytes((FIXTURES / "sample" / "pieteikuma_apstrade.bpmn").read_bytes())
    bare = tmp_path / "sub" / "bare.bpmn"
    bare.parent.mkdir()
    bare.write_bytes(LANES)

    assert cli.main(["layout", "--check", str(drawn)]) == 0
    assert "Every element of 1 file(s)" in capsys.readouterr().out
    assert cli.main(["layout", "--check", str(tmp_path)]) == 1
    captured = capsys.readouterr()
    assert str(bare) in captured.err and str(drawn) not in captured.err and "Lane_kac" in captured.err
    assert bare.read_bytes() == LANES, "--check changes nothing"

    assert cli.main(["layout", "--missing-only", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert f"Laid out {bare}" in out and str(drawn) not in out and "1 of 2 file(s) changed" in out
    assert drawn.read_bytes() == (FIXTURES / "sample" / "pieteikuma_apstrade.bpmn").read_bytes()
    assert cli.main(["layout", "--check", str(tmp_path)]) == 0
    capsys.readouterr()

    assert cli.main(["layout", str(bare), str(drawn)]) == 0
    out = capsys.readouterr().out
    assert f"Laid out {drawn}" in out and str(bare) not in out, "an up-to-date layout is not rewritten"
    assert cli.main(["layout", str(drawn)]) == 0
    assert "0 of 1 file(s) changed" in capsys.readouterr().out


def test_cli_reports_broken_files_and_missing_paths(tmp_path, capsys):
    broken = tmp_path / "broken.bpmn"
    broken.write_bytes(b"<bpmn:definitions")
    good = tmp_path / "good.bpmn"
    good.write_bytes(LINEAR)
    assert cli.main(["layout", str(broken), str(good)]) == 1
    captured = capsys.readouterr()
    assert "broken.bpmn" in captured.err and f"Laid out {good}" in captured.out
    assert cli.main(["layout", str(tmp_path / "nothing.bpmn")]) == 1
    assert "no such file" in capsys.readouterr().err


def test_the_same_input_gives_the_same_bytes_in_every_run(tmp_path):
    """Nothing depends on hash order: two interpreters with different hash seeds write the same file."""
    import os
    import subprocess
    import sys

    source = tmp_path / "pools.bpmn"
    source.write_bytes(POOLS)
    script = (
        "import sys; from engine.modelling import layout_bpmn; "
        "sys.stdout.buffer.write(layout_bpmn(open(sys.argv[1], 'rb').read()))"
    )
    outputs = set()
    for seed in ("1", "2", "3"):
        env = {**os.environ, "PYTHONHASHSEED": seed}
        run = subprocess.run(
            [sys.executable, "-c", script, str(source)],
            env=env,
            capture_output=True,
            check=True,
            cwd=FIXTURES.parent.parent,
        )
        outputs.add(run.stdout)
    assert outputs == {layout_bpmn(POOLS)}


def test_an_empty_collaboration_gets_its_participants():
    for collaboration in (
        '<bpmn:collaboration id="Collab" />',
        '<bpmn:collaboration id="Collab">\n  </bpmn:collaboration>',
    ):
        source = definitions("  " + collaboration, process('    <bpmn:startEvent id="start" />'))
        out, diagram = check_layout(source)
        assert '<bpmn:participant id="Participant_p" name="Process" processRef="p" />' in out.decode()
        assert "Participant_p" in diagram.shapes and diagram.shapes["start"].inside(diagram.shapes["Participant_p"])


def test_when_the_text_cannot_be_edited_lxml_writes_the_tree(monkeypatch):
    from engine.modelling import layout as layout_module

    expected = layout_bpmn(LANES)

    def refuse(*_args, **_kwargs):
        raise ValueError("cannot edit")

    monkeypatch.setattr(layout_module, "_spliced", refuse)
    out = layout_bpmn(LANES)
    assert bpmn_xsd_errors(out) == [] and missing_diagram_elements(out) == []
    assert semantic(out) == semantic(expected)
    assert Diagram(out).shapes.keys() == Diagram(expected).shapes.keys()
    assert layout_bpmn(out) == out
