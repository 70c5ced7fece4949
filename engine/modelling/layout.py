"""Automatic layout: a BPMN Diagram Interchange (BPMNDI) for BPMN files written or changed by hand.

Camunda Modeler and bpmn-js draw only what a file's ``bpmndi:BPMNDiagram`` places; a process written by
hand (or changed semantically) opens blank or broken without one. :func:`layout_bpmn` draws the diagram a
person would: flow left to right, one column per step of the longest path from the start events (loops go
back under the nodes), a horizontal band per lane, nodes of one column and lane stacked, boundary events on
the bottom edge of their task, orthogonal sequence flows, one pool per process when the file has lanes or
several processes. The semantic part of the file is kept byte for byte: the new diagram replaces the old
one in the text, and a collaboration is inserted only where bpmn-js needs one to show lanes or pools.

:func:`missing_diagram_elements` lists what a file's diagram does not draw.
"""

from __future__ import annotations

import copy
import math
import re
from dataclasses import dataclass, field

from lxml import etree

from engine.errors import InvalidModel, ModelProblem
from engine.modelling.bpmn_files import (
    ARTIFACT_SHAPES,
    BPMN_NS,
    BPMNDI_NS,
    DATA_ASSOCIATIONS,
    DATA_SHAPES,
    DC_NS,
    DI_NS,
    EVENTS,
    FLOW_NODES,
    GATEWAYS,
    SUBPROCESSES,
    bpmn,
    bpmn_children,
    diagram_elements,
    drawn_ids,
    localname,
)
from engine.parsing.xml import parse_xml

# Sizes, as Camunda Modeler draws them.
TASK_SIZE = (100, 80)
EVENT_SIZE = (36, 36)
GATEWAY_SIZE = (50, 50)
DATA_OBJECT_SIZE = (36, 50)
DATA_STORE_SIZE = (50, 50)
ANNOTATION_WIDTH = 120

GAP_X = 60  # between columns: tasks are 160 px apart
GAP_Y = 30  # between rows: tasks are 110 px apart
BOUNDARY_ROOM = 30  # more room below a row whose activities carry boundary events
BOUNDARY_STEP = 40  # between the centres of boundary events on one edge
POOL_LABEL = 30
LANE_LABEL = 30
BAND_PAD_TOP = 40
BAND_PAD_BOTTOM = 40
MIN_BAND_HEIGHT = 120
POOL_PAD_LEFT = 40
POOL_PAD_RIGHT = 40
POOL_GAP = 60
BLACK_BOX_POOL_HEIGHT = 80
SUB_PAD_X = 40
SUB_TITLE = 20
SUB_PAD_TOP = 30
SUB_PAD_BOTTOM = 30
MIN_SUB_SIZE = (200, 120)
ORIGIN = (160, 80)  # a process without a pool
POOL_ORIGIN = (120, 80)
STRIP_GAP = 20  # around text annotations and data objects placed above a band's flow
LABEL_WIDTH = 90
LABEL_LINE = 14
CHAR_WIDTH = 6

_DIAGRAM_TAG = f"{{{BPMNDI_NS}}}BPMNDiagram"


# ---------------------------------------------------------------------------------------------------------
# Geometry


@dataclass(frozen=True)
class Box:
    x: int
    y: int
    w: int
    h: int

    @property
    def right(self) -> int:
        return self.x + self.w

    @property
    def bottom(self) -> int:
        return self.y + self.h

    @property
    def cx(self) -> int:
        return self.x + self.w // 2

    @property
    def cy(self) -> int:
        return self.y + self.h // 2

    def moved(self, dx: int, dy: int) -> Box:
        return Box(self.x + dx, self.y + dy, self.w, self.h)


Point = tuple[int, int]


def _left(box: Box) -> Point:
    return (box.x, box.cy)


def _right(box: Box) -> Point:
    return (box.right, box.cy)


def _top(box: Box) -> Point:
    return (box.cx, box.y)


def _bottom(box: Box) -> Point:
    return (box.cx, box.bottom)


def _simplify(points: list[Point]) -> list[Point]:
    """Without repeated points and without middle points of straight runs."""
    out: list[Point] = []
    for point in points:
        if out and out[-1] == point:
            continue
        if len(out) >= 2:
            (ax, ay), (bx, by) = out[-2], out[-1]
            if (ax == bx == point[0]) or (ay == by == point[1]):
                out[-1] = point
                continue
        out.append(point)
    return out


def _crosses(points: list[Point], box: Box) -> bool:
    """Whether an orthogonal polyline runs through the inside of a box."""
    for (ax, ay), (bx, by) in zip(points, points[1:], strict=False):
        if ay == by:
            if box.y < ay < box.bottom and max(min(ax, bx), box.x) < min(max(ax, bx), box.right):
                return True
        elif ax == bx:
            if box.x < ax < box.right and max(min(ay, by), box.y) < min(max(ay, by), box.bottom):
                return True
        else:  # not orthogonal: test the bounding box of the segment
            if max(min(ax, bx), box.x) < min(max(ax, bx), box.right) and max(min(ay, by), box.y) < min(
                max(ay, by), box.bottom
            ):
                return True
    return False


def _label_size(text: str) -> tuple[int, int]:
    """Rough size of an external label (bpmn-js: 11 px font, 90 px wide lines)."""
    per_line = LABEL_WIDTH // CHAR_WIDTH
    lines, current, widest = 1, 0, 0
    for word in text.split():
        length = len(word)
        if current and current + 1 + length > per_line:
            lines += 1
            widest = max(widest, current)
            current = length
        else:
            current = current + 1 + length if current else length
        while current > per_line:
            lines += 1
            current -= per_line
            widest = per_line
    widest = max(widest, current)
    return max(20, min(LABEL_WIDTH, widest * CHAR_WIDTH + 4)), LABEL_LINE * lines


def _even(value: float) -> int:
    number = int(math.ceil(value))
    return number + (number % 2)


# ---------------------------------------------------------------------------------------------------------
# What is drawn


@dataclass
class _Shape:
    element: etree._Element
    box: Box
    label: Box | None = None
    attrs: tuple[tuple[str, str], ...] = ()

    def moved(self, dx: int, dy: int) -> _Shape:
        label = self.label.moved(dx, dy) if self.label else None
        return _Shape(self.element, self.box.moved(dx, dy), label, self.attrs)


@dataclass
class _Edge:
    element: etree._Element
    points: list[Point]
    label: Box | None = None

    def moved(self, dx: int, dy: int) -> _Edge:
        label = self.label.moved(dx, dy) if self.label else None
        return _Edge(self.element, [(x + dx, y + dy) for x, y in self.points], label)


@dataclass
class _Node:
    element: etree._Element
    id: str
    kind: str  # task, event, gateway, subprocess
    w: int
    h: int
    order: int
    inner: _Flow | None = None
    boundaries: list[etree._Element] = field(default_factory=list)
    col: int = 0
    row: int = 0
    band: int = 0
    box: Box = Box(0, 0, 0, 0)


@dataclass
class _FlowEdge:
    element: etree._Element
    source: str  # the node the flow leaves (a boundary event's host)
    target: str
    order: int
    boundary: etree._Element | None = None
    back: bool = False


def _attr_text(value: str) -> str:
    return (
        value.replace("&", "&amp;")
        .replace("<", "&lt;")
        .replace(">", "&gt;")
        .replace('"', "&quot;")
        .replace("\n", "&#10;")
        .replace("\r", "&#13;")
        .replace("\t", "&#9;")
    )


def _text_of(element: etree._Element) -> str:
    return (element.text or "").strip()


def _name(element: etree._Element) -> str:
    return (element.get("name") or "").strip()


def _node_kind(element: etree._Element) -> str:
    name = localname(element)
    if name in GATEWAYS:
        return "gateway"
    if name in EVENTS:
        return "event"
    if name in SUBPROCESSES:
        return "subprocess"
    return "task"


def _has_content(element: etree._Element) -> bool:
    return any(localname(child) in FLOW_NODES for child in element)


# ---------------------------------------------------------------------------------------------------------
# One process or subprocess: columns, rows, geometry, sequence flows


class _Flow:
    """The layout of one container's flow, in coordinates relative to its top-left corner."""

    def __init__(
        self,
        doc: _Document,
        container: etree._Element,
        band_of: dict[str, int] | None = None,
        bands: int = 1,
        pad_top: int = BAND_PAD_TOP,
        pad_bottom: int = BAND_PAD_BOTTOM,
        min_band_height: int = MIN_BAND_HEIGHT,
    ) -> None:
        self.doc = doc
        self.container = container
        self.pad_top, self.pad_bottom, self.min_band_height = pad_top, pad_bottom, min_band_height
        self.nodes: list[_Node] = []
        self.event_subprocesses: list[_Node] = []
        self.flows: list[etree._Element] = []
        self.artifacts: list[etree._Element] = []
        boundaries: list[etree._Element] = []
        order = 0
        for child in container:
            name = localname(child)
            if name == "boundaryEvent":
                boundaries.append(child)
            elif name in FLOW_NODES and child.get("id"):
                node = self._node(child, order)
                order += 1
                if name in SUBPROCESSES and child.get("triggeredByEvent") == "true":
                    self.event_subprocesses.append(node)
                else:
                    self.nodes.append(node)
            elif name == "sequenceFlow" and child.get("id"):
                self.flows.append(child)
            elif name in ARTIFACT_SHAPES and child.get("id"):
                self.artifacts.append(child)
        self.by_id: dict[str, _Node] = {node.id: node for node in self.nodes + self.event_subprocesses}
        self.boundary_host: dict[str, _Node] = {}
        for boundary in boundaries:
            host = self.by_id.get(boundary.get("attachedToRef") or "")
            if host is not None:
                host.boundaries.append(boundary)
                self.boundary_host[boundary.get("id") or ""] = host
                # Room for every boundary event along the bottom edge.
                host.w = max(host.w, _even(BOUNDARY_STEP * (len(host.boundaries) + 1)))
            elif boundary.get("id"):  # no host: drawn as a node of its own
                node = self._node(boundary, order)
                order += 1
                self.nodes.append(node)
                self.by_id[node.id] = node
        self.bands = bands
        extra_band = False
        for node in self.nodes + self.event_subprocesses:
            band = (band_of or {}).get(node.id, 0 if band_of is None else None)
            if band is None:
                band, extra_band = bands, True
            node.band = band
        if extra_band:
            self.bands += 1
        self.shapes: list[_Shape] = []
        self.edges: list[_Edge] = []
        self.width = 0
        self.height = 0
        self.band_y: list[int] = []
        self.band_h: list[int] = []

    def _node(self, element: etree._Element, order: int) -> _Node:
        kind = _node_kind(element)
        node_id = element.get("id") or ""
        if kind == "gateway":
            return _Node(element, node_id, kind, *GATEWAY_SIZE, order)
        if kind == "event":
            return _Node(element, node_id, kind, *EVENT_SIZE, order)
        if kind == "subprocess" and _has_content(element):
            inner = _Flow(
                self.doc, element, pad_top=SUB_PAD_TOP, pad_bottom=SUB_PAD_BOTTOM, min_band_height=0
            ).compute()
            w = max(MIN_SUB_SIZE[0], _even(inner.width + 2 * SUB_PAD_X))
            h = max(MIN_SUB_SIZE[1], _even(SUB_TITLE + inner.height))
            return _Node(element, node_id, kind, w, h, order, inner=inner)
        return _Node(element, node_id, "task", *TASK_SIZE, order)

    # --- columns and rows -----------------------------------------------------------------------------

    def _graph(self) -> list[_FlowEdge]:
        edges = []
        for order, flow in enumerate(self.flows):
            source, target = flow.get("sourceRef") or "", flow.get("targetRef") or ""
            boundary = None
            if source in self.boundary_host:
                host = self.boundary_host[source]
                boundary = next(b for b in host.boundaries if b.get("id") == source)
                source = host.id
            if source in self.by_id and target in self.by_id:
                edges.append(_FlowEdge(flow, source, target, order, boundary))
        return edges

    def _mark_back_edges(self, edges: list[_FlowEdge]) -> None:
        """Depth-first from the start events: an edge to a node still on the path closes a loop."""
        outgoing: dict[str, list[_FlowEdge]] = {node.id: [] for node in self.nodes}
        incoming: set[str] = set()
        for edge in edges:
            if edge.source in outgoing and edge.target in outgoing:
                outgoing[edge.source].append(edge)
                if edge.source != edge.target:
                    incoming.add(edge.target)
        roots = (
            [n for n in self.nodes if localname(n.element) == "startEvent"]
            + [n for n in self.nodes if n.id not in incoming]
            + self.nodes
        )
        state: dict[str, int] = {}  # 1: on the path, 2: done
        for root in roots:
            if root.id in state:
                continue
            state[root.id] = 1
            stack = [(root.id, iter(outgoing[root.id]))]
            while stack:
                node_id, pending = stack[-1]
                for edge in pending:
                    seen = state.get(edge.target)
                    if seen is None:
                        state[edge.target] = 1
                        stack.append((edge.target, iter(outgoing[edge.target])))
                        break
                    if seen == 1:
                        edge.back = True
                else:
                    state[node_id] = 2
                    stack.pop()

    def _columns(self, edges: list[_FlowEdge]) -> None:
        """Each node's column: the longest path to it from a node nothing leads to (loops ignored)."""
        forward = [e for e in edges if not e.back and e.source in self.by_id and e.target in self.by_id]
        pending = {node.id: 0 for node in self.nodes}
        outgoing: dict[str, list[_FlowEdge]] = {node.id: [] for node in self.nodes}
        for edge in forward:
            if edge.target in pending and edge.source in outgoing:
                pending[edge.target] += 1
                outgoing[edge.source].append(edge)
        ready = [node for node in self.nodes if pending[node.id] == 0]
        while ready:
            ready.sort(key=lambda n: n.order)
            node = ready.pop(0)
            for edge in outgoing[node.id]:
                target = self.by_id[edge.target]
                target.col = max(target.col, node.col + 1)
                pending[target.id] -= 1
                if pending[target.id] == 0:
                    ready.append(target)

    def _rows(self, edges: list[_FlowEdge]) -> None:
        """Rows within each band: a node takes its predecessor's row (a boundary event's target the row
        below its host) unless another node of its column holds it; then the next free row down."""
        predecessors: dict[str, list[_FlowEdge]] = {node.id: [] for node in self.nodes}
        for edge in edges:
            if not edge.back and edge.target in predecessors:
                predecessors[edge.target].append(edge)
        taken: set[tuple[int, int, int]] = set()
        placed: set[str] = set()
        for col in sorted({node.col for node in self.nodes}):
            wishes = []
            for node in (n for n in self.nodes if n.col == col):
                wish = None
                for edge in predecessors[node.id]:
                    source = self.by_id[edge.source]
                    if source.id in placed and source.band == node.band:
                        here = (source.row + (1 if edge.boundary is not None else 0), edge.order)
                        wish = here if wish is None else min(wish, here)
                wishes.append((wish or (0, len(self.flows)), node.order, node))
            for (row, _), _, node in sorted(wishes, key=lambda w: (w[0], w[1])):
                while (node.band, row, col) in taken:
                    row += 1
                node.row = row
                taken.add((node.band, row, col))
                placed.add(node.id)

    # --- geometry -------------------------------------------------------------------------------------

    def compute(self) -> _Flow:
        edges = self._graph()
        self._mark_back_edges(edges)
        self._columns(edges)
        self._rows(edges)

        columns = max((n.col for n in self.nodes), default=-1) + 1
        self.col_w = [max((n.w for n in self.nodes if n.col == c), default=0) for c in range(columns)]
        self.col_x = []
        x = 0
        for width in self.col_w:
            self.col_x.append(x)
            x += width + GAP_X
        flow_width = x - GAP_X if columns else 0

        # Text annotations and data objects: a strip above their band's flow, near what they belong to.
        strip_items: dict[int, list[tuple[int, int, etree._Element, int, int]]] = {}
        for order, artifact in enumerate(self.artifacts):
            anchor = self._anchor(artifact)
            band = anchor.band if anchor else 0
            w, h = self._artifact_size(artifact)
            wish = (self.col_x[anchor.col] + self.col_w[anchor.col] // 2 + 10) if anchor and columns else 0
            if localname(artifact) in DATA_SHAPES and anchor and columns:
                wish = self.col_x[anchor.col] + self.col_w[anchor.col] // 2 - w // 2
            strip_items.setdefault(band, []).append((wish, order, artifact, w, h))
        strip_h = {}
        for band, items in strip_items.items():
            label = any(_name(a) and localname(a) in DATA_SHAPES for _, _, a, _, _ in items)
            strip_h[band] = max(h for *_, h in items) + (2 * LABEL_LINE + 6 if label else 0) + STRIP_GAP

        self.row_top: dict[tuple[int, int], int] = {}
        self.row_h: dict[tuple[int, int], int] = {}
        self.row_extra: dict[tuple[int, int], int] = {}
        self.band_y, self.band_h = [], []
        y = 0
        event_sub_x = 0
        for band in range(self.bands):
            members = [n for n in self.nodes if n.band == band]
            rows = max((n.row for n in members), default=-1) + 1
            self.band_y.append(y)
            cursor = self.pad_top + strip_h.get(band, 0)
            bottom = cursor
            for row in range(rows):
                in_row = [n for n in members if n.row == row]
                self.row_top[band, row] = cursor
                self.row_h[band, row] = max((n.h for n in in_row), default=0)
                self.row_extra[band, row] = BOUNDARY_ROOM if any(n.boundaries for n in in_row) else 0
                bottom = cursor + self.row_h[band, row] + self.row_extra[band, row]
                cursor = bottom + GAP_Y
            subs = [n for n in self.event_subprocesses if n.band == band]
            if subs:
                top = bottom + GAP_Y if rows else bottom
                sub_x = 0
                for node in subs:
                    node.box = Box(sub_x, y + top, node.w, node.h)
                    sub_x += node.w + GAP_X
                event_sub_x = max(event_sub_x, sub_x - GAP_X)
                bottom = top + max(n.h for n in subs)
            height = max(self.min_band_height, bottom + self.pad_bottom)
            self.band_h.append(height)
            y += height
        self.height = y

        for node in self.nodes:
            top = self.band_y[node.band] + self.row_top[node.band, node.row]
            node.box = Box(
                self.col_x[node.col] + (self.col_w[node.col] - node.w) // 2,
                top + (self.row_h[node.band, node.row] - node.h) // 2,
                node.w,
                node.h,
            )

        self.boundary_box: dict[str, Box] = {}
        for node in self.nodes + self.event_subprocesses:
            for index, center in enumerate(self._boundary_centers(node)):
                boundary = node.boundaries[index]
                box = Box(center - EVENT_SIZE[0] // 2, node.box.bottom - EVENT_SIZE[1] // 2, *EVENT_SIZE)
                self.boundary_box[boundary.get("id") or ""] = box

        artifact_right = 0
        artifact_box: dict[str, Box] = {}
        for band, items in strip_items.items():
            x = 0
            for wish, _, artifact, w, h in sorted(items, key=lambda i: (i[0], i[1])):
                x = max(wish, x)
                artifact_box[artifact.get("id") or ""] = Box(x, self.band_y[band] + STRIP_GAP // 2, w, h)
                x += w + STRIP_GAP
            artifact_right = max(artifact_right, x - STRIP_GAP)
        self.width = max(flow_width, event_sub_x, artifact_right)

        # Shapes, in the order of the file; labels where they cover no node and no other label.
        self.obstacles = [(n.id, n.box) for n in self.nodes + self.event_subprocesses] + list(self.boundary_box.items())
        self.labels: list[Box] = []
        for child in self.container:
            child_id = child.get("id") or ""
            if child_id in self.by_id:
                self._emit_node(self.by_id[child_id])
            elif child_id in artifact_box:
                box = artifact_box[child_id]
                label = None
                if localname(child) in DATA_SHAPES and _name(child):
                    w, h = _label_size(_name(child))
                    label = self._place_label([Box(box.cx - w // 2, box.bottom + 6, w, h)])
                self.shapes.append(_Shape(child, box, label))
        for node in self.nodes + self.event_subprocesses:
            for boundary in node.boundaries:
                box = self.boundary_box[boundary.get("id") or ""]
                label = None
                if _name(boundary):
                    w, h = _label_size(_name(boundary))
                    top = node.box.bottom + 4
                    label = self._place_label(
                        [Box(box.right + 2, top, w, h), Box(box.cx - w // 2, box.bottom + 4, w, h)]
                        + [Box(box.right + 2, top + step * LABEL_LINE, w, h) for step in range(1, 4)]
                    )
                self.shapes.append(_Shape(boundary, box, label))

        self.corridor_use: dict[tuple[int, int, str], int] = {}
        self.outgoing: dict[str, list[_FlowEdge]] = {}
        for edge in edges:
            if edge.boundary is None:
                self.outgoing.setdefault(edge.source, []).append(edge)
        by_element = {id(edge.element): edge for edge in edges}
        for flow in self.flows:
            edge = by_element.get(id(flow))
            if edge is not None:
                points = self._route(edge)
                self.edges.append(_Edge(flow, points, self._flow_label(flow, points)))
        for node in self.nodes + self.event_subprocesses:
            if node.inner is not None:
                dx, dy = node.box.x + SUB_PAD_X, node.box.y + SUB_TITLE
                self.edges.extend(edge.moved(dx, dy) for edge in node.inner.edges)
        return self

    def _place_label(self, candidates: list[Box]) -> Box:
        """The first candidate that overlaps no node and no label placed before (else the first)."""

        def overlaps(a: Box, b: Box) -> bool:
            return a.x < b.right and b.x < a.right and a.y < b.bottom and b.y < a.bottom

        chosen = next(
            (
                box
                for box in candidates
                if not any(overlaps(box, other) for other in self.labels)
                and not any(overlaps(box, other) for _, other in self.obstacles)
            ),
            candidates[0],
        )
        self.labels.append(chosen)
        return chosen

    def _emit_node(self, node: _Node) -> None:
        attrs: tuple[tuple[str, str], ...] = ()
        name = localname(node.element)
        if name == "exclusiveGateway":
            attrs = (("isMarkerVisible", "true"),)
        elif name in SUBPROCESSES:
            attrs = (("isExpanded", "true" if node.inner is not None else "false"),)
        label = None
        text, box = _name(node.element), node.box
        if text and node.kind in ("event", "gateway"):
            w, h = _label_size(text)
            below = Box(box.cx - w // 2, box.bottom + 6, w, h)
            above = Box(box.cx - w // 2, box.y - h - 6, w, h)
            if node.kind == "event":
                candidates = [below, above, below.moved(0, h), above.moved(0, -h)]
            else:  # beside the top corner, clear of flows leaving upwards or downwards
                candidates = [
                    Box(box.cx - w - 4, box.y + 4 - h, w, h),
                    Box(box.cx + 4, box.y + 4 - h, w, h),
                    Box(box.cx - w - 4, box.y - h - 4, w, h),
                    Box(box.cx + 4, box.y - h - 4, w, h),
                    Box(box.cx - w - 4, box.bottom - 4, w, h),
                    Box(box.cx + 4, box.bottom - 4, w, h),
                    above,
                ]
            label = self._place_label(candidates)
        self.shapes.append(_Shape(node.element, node.box, label, attrs))
        if node.inner is not None:
            dx, dy = node.box.x + SUB_PAD_X, node.box.y + SUB_TITLE
            self.shapes.extend(shape.moved(dx, dy) for shape in node.inner.shapes)

    @staticmethod
    def _boundary_centers(node: _Node) -> list[int]:
        count = len(node.boundaries)
        if not count:
            return []
        box = node.box
        step = BOUNDARY_STEP
        if count * step <= box.w // 2 + step:  # a few: from the right, leaving the middle free
            return [box.right - 20 - index * step for index in range(count)]
        return [box.x + box.w * (index + 1) // (count + 1) for index in range(count)]

    @staticmethod
    def _artifact_size(artifact: etree._Element) -> tuple[int, int]:
        name = localname(artifact)
        if name == "dataObjectReference":
            return DATA_OBJECT_SIZE
        if name == "dataStoreReference":
            return DATA_STORE_SIZE
        text = "".join(t.text or "" for t in bpmn_children(artifact, "text")).strip()
        chars_per_line = (ANNOTATION_WIDTH - 10) // CHAR_WIDTH
        lines = sum(max(1, math.ceil(len(line) / chars_per_line)) for line in text.splitlines() or [""])
        return ANNOTATION_WIDTH, max(30, _even(lines * LABEL_LINE + 12))

    def _anchor(self, artifact: etree._Element) -> _Node | None:
        """The node of this flow an artifact belongs to (through an association or data association)."""
        for element_id in self.doc.links.get(artifact.get("id") or "", []):
            element = self.doc.ids.get(element_id)
            while element is not None:
                found = self.by_id.get(element.get("id") or "")
                if found is not None and element.getparent() is self.container:
                    return found
                element = element.getparent()
        return None

    # --- sequence flows -------------------------------------------------------------------------------

    def _corridor(self, band: int, row: int, below: bool) -> tuple[int, tuple[int, int, str]]:
        """A y between rows, where no node is, and the key that counts the flows already running there."""
        if below:
            base = (
                self.band_y[band]
                + self.row_top[band, row]
                + self.row_h[band, row]
                + self.row_extra[band, row]
                + GAP_Y // 2
            )
        else:
            base = self.band_y[band] + self.row_top[band, row] - GAP_Y // 2
        key = (band, row, "below" if below else "above")
        return base + (0, 6, -6)[self.corridor_use.get(key, 0) % 3], key

    def _gap_after(self, col: int) -> int:
        return self.col_x[col] + self.col_w[col] + GAP_X // 2

    def _gap_before(self, col: int) -> int:
        return self.col_x[col] - GAP_X // 2

    def _clear(self, points: list[Point], skip: set[str]) -> bool:
        return not any(_crosses(points, box) for key, box in self.obstacles if key not in skip)

    def _route(self, edge: _FlowEdge) -> list[Point]:
        """Orthogonal waypoints from the source's border to the target's: the first candidate that runs
        through no node, else the last (which keeps to the gaps between rows and columns)."""
        s, t = self.by_id[edge.source], self.by_id[edge.target]
        tb = t.box
        skip = {s.id, t.id}
        into_t = self._gap_before(t.col)
        candidates: list[tuple[list[Point], tuple | None]] = []
        if edge.boundary is not None:  # down from the boundary event, then right (or back)
            eb = self.boundary_box[edge.boundary.get("id") or ""]
            skip.add(edge.boundary.get("id") or "")
            if tb.cy > eb.bottom and tb.x > eb.cx:
                candidates.append(([_bottom(eb), (eb.cx, tb.cy), _left(tb)], None))
            y, key = self._corridor(s.band, s.row, below=True)
            candidates.append(([_bottom(eb), (eb.cx, y), (into_t, y), (into_t, tb.cy), _left(tb)], key))
            return self._pick(candidates, skip)

        sb = s.box
        out_of_s = self._gap_after(s.col)
        if not edge.back:
            if sb.cy == tb.cy:
                candidates.append(([_right(sb), _left(tb)], None))
            else:
                down = tb.cy > sb.cy
                if s.kind == "gateway" and tb.x > sb.cx:
                    candidates.append(([_bottom(sb) if down else _top(sb), (sb.cx, tb.cy), _left(tb)], None))
                if t.kind == "gateway" and tb.cx > sb.right:
                    candidates.append(([_right(sb), (tb.cx, sb.cy), _top(tb) if down else _bottom(tb)], None))
                for x in (into_t, out_of_s):
                    candidates.append(([_right(sb), (x, sb.cy), (x, tb.cy), _left(tb)], None))
            if sb.cy == tb.cy and s.band == t.band and not s.boundaries and not t.boundaries:
                # Around the nodes in between: over them when other flows leave the source downwards.
                down_used = any(
                    self.by_id[e.target].box.cy > sb.cy for e in self.outgoing[s.id] if e is not edge and not e.back
                )
                for below in (False, True) if down_used else (True, False):
                    y, key = self._corridor(s.band, s.row, below=below)
                    ports = (_bottom(sb), _bottom(tb)) if below else (_top(sb), _top(tb))
                    candidates.append(([ports[0], (sb.cx, y), (tb.cx, y), ports[1]], key))
            y, key = self._corridor(s.band, s.row, below=tb.cy >= sb.cy)
            candidates.append(
                ([_right(sb), (out_of_s, sb.cy), (out_of_s, y), (into_t, y), (into_t, tb.cy), _left(tb)], key)
            )
            return self._pick(candidates, skip)

        # A loop back: under the nodes, into the target from below or from the left.
        y, key = self._corridor(s.band, s.row, below=True)
        if not s.boundaries:
            if not t.boundaries and s.band == t.band and s.id != t.id:
                candidates.append(([_bottom(sb), (sb.cx, y), (tb.cx, y), _bottom(tb)], key))
            candidates.append(([_bottom(sb), (sb.cx, y), (into_t, y), (into_t, tb.cy), _left(tb)], key))
        candidates.append(
            ([_right(sb), (out_of_s, sb.cy), (out_of_s, y), (into_t, y), (into_t, tb.cy), _left(tb)], key)
        )
        return self._pick(candidates, skip)

    def _pick(self, candidates: list[tuple[list[Point], tuple | None]], skip: set[str]) -> list[Point]:
        chosen = None
        for points, key in candidates:
            points = _simplify(points)
            if self._clear(points, skip):
                chosen = (points, key)
                break
        if chosen is None:
            chosen = (_simplify(candidates[-1][0]), candidates[-1][1])
        points, key = chosen
        if key is not None:
            self.corridor_use[key] = self.corridor_use.get(key, 0) + 1
        return points

    def _flow_label(self, flow: etree._Element, points: list[Point]) -> Box | None:
        """Near where the flow leaves its source, else near its first bend."""
        text = _name(flow)
        if not text:
            return None
        w, h = _label_size(text)
        (ax, ay), (bx, by) = points[0], points[1]
        candidates = []
        if ax == bx:  # leaves vertically
            down = by > ay
            candidates.append(Box(ax + 5, ay + 5 if down else ay - 5 - h, w, h))
            candidates.append(Box(ax + 5, by - h - 4 if down else by + 4, w, h))
            if len(points) > 2 and points[2][1] == by:
                candidates.append(Box(bx + 8 if points[2][0] > bx else bx - 8 - w, by - h - 3, w, h))
        else:
            right = bx >= ax
            x = ax + 8 if right else ax - 8 - w
            candidates += [Box(x, ay - h - 3, w, h), Box(x, ay + 3, w, h)]
            candidates.append(Box(bx - w - 8 if right else bx + 8, ay - h - 3, w, h))
        candidates += [candidates[0].moved(0, step * h) for step in (1, 2, 3)]
        return self._place_label(candidates)


# ---------------------------------------------------------------------------------------------------------
# The document: pools, lanes, message flows, associations


@dataclass
class _Lane:
    element: etree._Element
    depth: int
    leaves: list[int]


class _Document:
    def __init__(self, root: etree._Element) -> None:
        self.root = root
        self.ids: dict[str, etree._Element] = {}
        for element in root.iter():
            if isinstance(element.tag, str) and element.get("id") and element.tag != _DIAGRAM_TAG:
                if not any(a.tag == _DIAGRAM_TAG for a in element.iterancestors()):
                    self.ids.setdefault(element.get("id"), element)
        #: artifact id -> ids of the elements it is linked to (associations, data associations)
        self.links: dict[str, list[str]] = {}
        for association in root.iter(bpmn("association")):
            source, target = association.get("sourceRef") or "", association.get("targetRef") or ""
            self.links.setdefault(source, []).append(target)
            self.links.setdefault(target, []).append(source)
        for association in root.iter(bpmn("dataInputAssociation"), bpmn("dataOutputAssociation")):
            activity = association.getparent()
            refs = bpmn_children(association, "sourceRef", "targetRef")
            for ref in refs:
                if activity is not None and activity.get("id"):
                    self.links.setdefault(_text_of(ref), []).append(activity.get("id"))
        self.shapes: list[_Shape] = []
        self.edges: list[_Edge] = []

    # --- semantic additions ---------------------------------------------------------------------------

    def prepare_collaboration(self) -> tuple[etree._Element | None, etree._Element | None, list[etree._Element]]:
        """The collaboration the diagram shows: (collaboration, created collaboration or None, participants
        added to an existing one). A collaboration is created when a process has lanes or the file has
        several processes; an existing one gets a participant for each process that has none."""
        processes = bpmn_children(self.root, "process")
        collaborations = bpmn_children(self.root, "collaboration")
        if collaborations:
            collaboration = collaborations[0]
            referenced = {p.get("processRef") for c in collaborations for p in bpmn_children(c, "participant")}
            added = []
            for process in processes:
                if process.get("id") and process.get("id") not in referenced:
                    participant = self._participant(process)
                    existing = bpmn_children(collaboration, "participant")
                    index = collaboration.index(existing[-1]) + 1 if existing else 0
                    if existing:
                        participant.tail = existing[-1].tail
                        existing[-1].tail = _child_indent(collaboration)
                    collaboration.insert(index, participant)
                    added.append(participant)
            return collaboration, None, added
        if not processes or not (len(processes) > 1 or any(bpmn_children(p, "laneSet") for p in processes)):
            return None, None, []
        collaboration = etree.Element(bpmn("collaboration"))
        collaboration.set("id", self.unique_id(f"Collaboration_{processes[0].get('id') or '1'}"))
        indent = _child_indent(self.root)
        unit = _indent_unit(self.root)
        collaboration.text = indent + unit
        for index, process in enumerate(processes):
            participant = self._participant(process)
            participant.tail = indent + unit if index < len(processes) - 1 else indent
            collaboration.append(participant)
        first = _first_root_element(self.root)
        if first is None:
            self.root.append(collaboration)
        else:
            position = self.root.index(first)
            previous = self.root[position - 1] if position else None
            collaboration.tail = (previous.tail if previous is not None else self.root.text) or indent
            self.root.insert(position, collaboration)
        self.ids[collaboration.get("id")] = collaboration
        for participant in collaboration:
            self.ids[participant.get("id")] = participant
        return collaboration, collaboration, []

    def _participant(self, process: etree._Element) -> etree._Element:
        participant = etree.Element(bpmn("participant"))
        participant.set("id", self.unique_id(f"Participant_{process.get('id')}"))
        if process.get("name"):
            participant.set("name", process.get("name"))
        participant.set("processRef", process.get("id"))
        self.ids[participant.get("id")] = participant
        return participant

    def unique_id(self, wanted: str) -> str:
        candidate, number = wanted, 2
        while candidate in self.ids:
            candidate = f"{wanted}_{number}"
            number += 1
        return candidate

    # --- layout ---------------------------------------------------------------------------------------

    def layout(self, collaboration: etree._Element | None) -> str | None:
        """Place everything; return the id of the element the diagram's plane shows."""
        processes = bpmn_children(self.root, "process")
        if collaboration is None:
            if not processes:
                return None
            flow = _Flow(self, processes[0]).compute()
            self._take(flow, *ORIGIN)
            self._finish()
            return processes[0].get("id")

        by_id = {p.get("id"): p for p in processes}
        pools = []  # (participant, flow or None, lanes, depth, content_x)
        done: set[str] = set()
        for participant in bpmn_children(collaboration, "participant"):
            process = by_id.get(participant.get("processRef") or "")
            if process is None or process.get("id") in done:
                pools.append((participant, None, [], 0))
                continue
            done.add(process.get("id"))
            flow, lanes, depth = self._process_flow(process)
            pools.append((participant, flow, lanes, depth))

        x = POOL_ORIGIN[0]
        content_x = [x + POOL_LABEL + LANE_LABEL * depth + POOL_PAD_LEFT for _, _, _, depth in pools]
        width = max(
            [600]
            + [
                cx - x + flow.width + POOL_PAD_RIGHT
                for cx, (_, flow, _, _) in zip(content_x, pools, strict=True)
                if flow
            ]
        )
        y = POOL_ORIGIN[1] + self._collaboration_strip(collaboration, pools, content_x)
        for (participant, flow, lanes, _depth), cx in zip(pools, content_x, strict=True):
            height = flow.height if flow is not None else BLACK_BOX_POOL_HEIGHT
            pool = Box(x, y, width, height)
            self.shapes.append(_Shape(participant, pool, None, (("isHorizontal", "true"),)))
            for lane in lanes:
                top = flow.band_y[lane.leaves[0]]
                bottom = flow.band_y[lane.leaves[-1]] + flow.band_h[lane.leaves[-1]]
                left = x + POOL_LABEL + LANE_LABEL * lane.depth
                box = Box(left, y + top, x + width - left, bottom - top)
                self.shapes.append(_Shape(lane.element, box, None, (("isHorizontal", "true"),)))
            if flow is not None:
                self._take(flow, cx, y)
            y += height + POOL_GAP
        self._finish(collaboration)
        return collaboration.get("id")

    def _process_flow(self, process: etree._Element) -> tuple[_Flow, list[_Lane], int]:
        lanes: list[_Lane] = []
        leaves: list[etree._Element] = []

        def walk(lane_set: etree._Element, depth: int) -> list[int]:
            covered = []
            for lane in bpmn_children(lane_set, "lane"):
                record = _Lane(lane, depth, [])
                lanes.append(record)
                children = [c for s in bpmn_children(lane, "childLaneSet") for c in bpmn_children(s, "lane")]
                if children:
                    for child_set in bpmn_children(lane, "childLaneSet"):
                        record.leaves.extend(walk(child_set, depth + 1))
                if not record.leaves:
                    record.leaves = [len(leaves)]
                    leaves.append(lane)
                covered.extend(record.leaves)
            return covered

        for lane_set in bpmn_children(process, "laneSet"):
            walk(lane_set, 0)
        if not lanes:
            return _Flow(self, process).compute(), [], 0
        band_of: dict[str, int] = {}
        for index, lane in enumerate(leaves):
            for ref in bpmn_children(lane, "flowNodeRef"):
                band_of.setdefault(_text_of(ref), index)
        for record in lanes:  # nodes a parent lane names but none of its children
            for ref in bpmn_children(record.element, "flowNodeRef"):
                band_of.setdefault(_text_of(ref), record.leaves[0])
        flow = _Flow(self, process, band_of=band_of, bands=len(leaves)).compute()
        depth = max(lane.depth for lane in lanes) + 1
        return flow, lanes, depth

    def _collaboration_strip(self, collaboration: etree._Element, pools: list, content_x: list[int]) -> int:
        """Text annotations of the collaboration itself: a strip above the pools. Returns its height."""
        artifacts = [a for a in bpmn_children(collaboration, "textAnnotation") if a.get("id")]
        if not artifacts:
            return 0
        anchors: dict[str, int] = {}
        for (_, flow, _, _), cx in zip(pools, content_x, strict=True):
            if flow is None:
                continue
            for node in flow.nodes + flow.event_subprocesses:
                anchors[node.id] = cx + node.box.cx
        x, height = POOL_ORIGIN[0] + POOL_LABEL, 0
        for artifact in artifacts:
            wish = next((anchors[i] for i in self.links.get(artifact.get("id"), []) if i in anchors), x)
            w, h = _Flow._artifact_size(artifact)
            x = max(x, wish)
            self.shapes.append(_Shape(artifact, Box(x, POOL_ORIGIN[1], w, h)))
            x += w + STRIP_GAP
            height = max(height, h)
        return height + 2 * STRIP_GAP

    def _take(self, flow: _Flow, dx: int, dy: int) -> None:
        self.shapes.extend(shape.moved(dx, dy) for shape in flow.shapes)
        self.edges.extend(edge.moved(dx, dy) for edge in flow.edges)

    def _finish(self, collaboration: etree._Element | None = None) -> None:
        boxes = {shape.element.get("id"): shape.box for shape in self.shapes}
        pool_of: dict[str, Box] = {}
        for shape in self.shapes:
            if localname(shape.element) == "participant":
                process = self.ids.get(shape.element.get("processRef") or "")
                pool_of[shape.element.get("id")] = shape.box
                if process is not None:
                    for element in process.iter():
                        if isinstance(element.tag, str) and element.get("id"):
                            pool_of.setdefault(element.get("id"), shape.box)
        # Associations and data associations: straight lines between the borders.
        for association in self.root.iter(bpmn("association")):
            source, target = boxes.get(association.get("sourceRef")), boxes.get(association.get("targetRef"))
            if association.get("id") and source and target:
                self.edges.append(_Edge(association, _straight(source, target)))
        for association in self.root.iter(*(bpmn(name) for name in sorted(DATA_ASSOCIATIONS))):
            activity = association.getparent()
            activity_box = boxes.get(activity.get("id")) if activity is not None else None
            if not association.get("id") or activity_box is None:
                continue
            if localname(association) == "dataInputAssociation":
                refs = [boxes.get(_text_of(r)) for r in bpmn_children(association, "sourceRef")]
                data = next((r for r in refs if r), None)
                if data:
                    self.edges.append(_Edge(association, _straight(data, activity_box)))
            else:
                refs = [boxes.get(_text_of(r)) for r in bpmn_children(association, "targetRef")]
                data = next((r for r in refs if r), None)
                if data:
                    self.edges.append(_Edge(association, _straight(activity_box, data)))
        if collaboration is None:
            return
        for message_flow in bpmn_children(collaboration, "messageFlow"):
            source_id, target_id = message_flow.get("sourceRef") or "", message_flow.get("targetRef") or ""
            source, target = boxes.get(source_id), boxes.get(target_id)
            if not (message_flow.get("id") and source and target):
                continue
            points = _message_route(source, target, pool_of.get(source_id), pool_of.get(target_id))
            label = None
            if _name(message_flow):
                w, h = _label_size(_name(message_flow))
                (ax, ay), (bx, by) = max(
                    zip(points, points[1:], strict=False), key=lambda s: abs(s[0][0] - s[1][0]) + abs(s[0][1] - s[1][1])
                )
                label = Box((ax + bx) // 2 + 6, (ay + by) // 2 - h // 2, w, h)
            self.edges.append(_Edge(message_flow, points, label))


def _straight(source: Box, target: Box) -> list[Point]:
    """Two points on facing borders of two boxes."""
    if source.bottom <= target.y:
        return [_bottom(source), _top(target)]
    if target.bottom <= source.y:
        return [_top(source), _bottom(target)]
    if source.right <= target.x:
        return [_right(source), _left(target)]
    return [_left(source), _right(target)]


def _message_route(source: Box, target: Box, source_pool: Box | None, target_pool: Box | None) -> list[Point]:
    down = source.cy <= target.cy
    start_y = source.bottom if down else source.y
    end_y = target.y if down else target.bottom
    low, high = max(source.x, target.x), min(source.right, target.right)
    if high - low >= 10:
        x = (low + high) // 2
        return [(x, start_y), (x, end_y)]
    if source_pool and target_pool and source_pool != target_pool:  # in the gap next to the source's pool
        middle = source_pool.bottom + POOL_GAP // 2 if down else source_pool.y - POOL_GAP // 2
    else:
        middle = (start_y + end_y) // 2
    return [(source.cx, start_y), (source.cx, middle), (target.cx, middle), (target.cx, end_y)]


# ---------------------------------------------------------------------------------------------------------
# Writing the diagram


def _child_indent(parent: etree._Element) -> str:
    """The newline and indentation before ``parent``'s children ("\\n  " for Camunda's files)."""
    text = parent.text or ""
    if "\n" in text and not text.strip():
        return "\n" + text.rsplit("\n", 1)[1]
    return "\n" + _indent_unit(parent) * (len(list(parent.iterancestors())) + 1)


def _indent_unit(element: etree._Element) -> str:
    root = element.getroottree().getroot()
    text = root.text or ""
    if "\n" in text and not text.strip():
        unit = text.rsplit("\n", 1)[1]
        if unit:
            return unit
    return "  "


def _first_root_element(root: etree._Element) -> etree._Element | None:
    for child in root:
        if localname(child) and localname(child) not in ("import", "extension"):
            return child
    return None


class _Writer:
    """The diagram as text, in Camunda Modeler's style."""

    def __init__(self, root: etree._Element, used_ids: set[str]) -> None:
        self.used = set(used_ids)
        self.declare: list[tuple[str, str]] = []
        self.prefix = {}
        for uri, wanted in ((BPMNDI_NS, "bpmndi"), (DC_NS, "dc"), (DI_NS, "di")):
            found = sorted(p for p, u in root.nsmap.items() if u == uri and p)
            if found:
                self.prefix[uri] = found[0]
                continue
            prefix, number = wanted, 1
            while prefix in root.nsmap or prefix in (p for p, _ in self.declare):
                prefix = f"{wanted}{number}"
                number += 1
            self.prefix[uri] = prefix
            self.declare.append((prefix, uri))

    def unique(self, wanted: str) -> str:
        candidate, number = wanted, 2
        while candidate in self.used:
            candidate = f"{wanted}_{number}"
            number += 1
        self.used.add(candidate)
        return candidate

    def tag(self, uri: str, name: str) -> str:
        return f"{self.prefix[uri]}:{name}"

    def bounds(self, box: Box) -> str:
        return f'<{self.tag(DC_NS, "Bounds")} x="{box.x}" y="{box.y}" width="{box.w}" height="{box.h}" />'

    def lines(self, plane_element: str | None, shapes: list[_Shape], edges: list[_Edge]) -> list[tuple[int, str]]:
        diagram, plane = self.tag(BPMNDI_NS, "BPMNDiagram"), self.tag(BPMNDI_NS, "BPMNPlane")
        shape_tag, edge_tag = self.tag(BPMNDI_NS, "BPMNShape"), self.tag(BPMNDI_NS, "BPMNEdge")
        label_tag = self.tag(BPMNDI_NS, "BPMNLabel")
        declarations = "".join(f' xmlns:{p}="{u}"' for p, u in self.declare)
        out = [(0, f'<{diagram} id="{self.unique("BPMNDiagram_1")}"{declarations}>')]
        reference = f' bpmnElement="{_attr_text(plane_element)}"' if plane_element else ""
        out.append((1, f'<{plane} id="{self.unique("BPMNPlane_1")}"{reference}>'))
        for shape in shapes:
            element_id = _attr_text(shape.element.get("id"))
            extra = "".join(f' {name}="{value}"' for name, value in shape.attrs)
            out.append((2, f'<{shape_tag} id="{self.unique(element_id + "_di")}" bpmnElement="{element_id}"{extra}>'))
            out.append((3, self.bounds(shape.box)))
            if shape.label is not None:
                out += [(3, f"<{label_tag}>"), (4, self.bounds(shape.label)), (3, f"</{label_tag}>")]
            out.append((2, f"</{shape_tag}>"))
        waypoint = self.tag(DI_NS, "waypoint")
        for edge in edges:
            element_id = _attr_text(edge.element.get("id"))
            out.append((2, f'<{edge_tag} id="{self.unique(element_id + "_di")}" bpmnElement="{element_id}">'))
            out.extend((3, f'<{waypoint} x="{x}" y="{y}" />') for x, y in edge.points)
            if edge.label is not None:
                out += [(3, f"<{label_tag}>"), (4, self.bounds(edge.label)), (3, f"</{label_tag}>")]
            out.append((2, f"</{edge_tag}>"))
        out += [(1, f"</{plane}>"), (0, f"</{diagram}>")]
        return out


def _participant_text(participant: etree._Element, root: etree._Element) -> str:
    tag = _qualified(root, "participant")
    attrs = "".join(f' {name}="{_attr_text(value)}"' for name, value in participant.attrib.items())
    return f"<{tag}{attrs} />"


def _qualified(root: etree._Element, name: str) -> str:
    prefixes = sorted((p or "" for p, u in root.nsmap.items() if u == BPMN_NS), key=lambda p: (p != "bpmn", p))
    prefix = prefixes[0] if prefixes else "bpmn"
    return f"{prefix}:{name}" if prefix else name


# ---------------------------------------------------------------------------------------------------------
# Editing the text: the semantic part stays byte for byte


_HIDDEN = re.compile(r"<!--.*?-->|<!\[CDATA\[.*?\]\]>|<\?.*?\?>", re.DOTALL)


def _masked(text: str) -> str:
    """The text with comments, CDATA sections and processing instructions blanked (offsets kept)."""
    return _HIDDEN.sub(lambda m: " " * len(m.group(0)), text)


def _source_qname(element: etree._Element) -> str:
    local = etree.QName(element).localname
    return f"{element.prefix}:{local}" if element.prefix else local


class _Spans:
    """Where elements of the parsed tree are in the text."""

    def __init__(self, text: str, root: etree._Element, new: set[etree._Element]) -> None:
        self.text = text
        self.masked = _masked(text)
        self.root = root
        self.new = new  # elements of the tree that are not in the text (yet)

    def start(self, element: etree._Element) -> int:
        qname = _source_qname(element)
        same = [
            e for e in self.root.iter() if isinstance(e.tag, str) and e not in self.new and _source_qname(e) == qname
        ]
        index = next(i for i, e in enumerate(same) if e is element)
        matches = list(re.finditer(rf"<{re.escape(qname)}(?=[\s/>])", self.masked))
        if len(matches) != len(same):
            raise ValueError(f"cannot find <{qname}> in the text")
        return matches[index].start()

    def start_tag(self, element: etree._Element) -> re.Match:
        qname = re.escape(_source_qname(element))
        start_tag = re.compile(rf"<{qname}(?:\s+[^\s=/>]+\s*=\s*(?:\"[^\"]*\"|'[^']*'))*\s*(/?)>")
        match = start_tag.match(self.masked, self.start(element))
        if match is None:
            raise ValueError("unreadable start tag")
        return match

    def span(self, element: etree._Element) -> tuple[int, int]:
        qname = re.escape(_source_qname(element))
        match = self.start_tag(element)
        start = match.start()
        if match.group(1):
            return start, match.end()
        depth, position = 1, match.end()
        tags = re.compile(rf"<{qname}(?:\s+[^\s=/>]+\s*=\s*(?:\"[^\"]*\"|'[^']*'))*\s*(/?)>|</{qname}\s*>")
        while depth:
            found = tags.search(self.masked, position)
            if found is None:
                raise ValueError("no end tag")
            if found.group(0).startswith("</"):
                depth -= 1
            elif not found.group(1):
                depth += 1
            position = found.end()
        return start, position

    def line_indent(self, position: int) -> str:
        line_start = self.text.rfind("\n", 0, position) + 1
        before = self.text[line_start:position]
        return before if not before.strip() else ""


def _semantic_form(root: etree._Element) -> bytes:
    """The document without its diagrams and formatting whitespace, canonicalized: what must not change."""
    clone = copy.deepcopy(root)
    for diagram in clone.findall(_DIAGRAM_TAG):
        clone.remove(diagram)
    for element in clone.iter():
        if element.text is not None and not element.text.strip() and len(element):
            element.text = None
        if element.tail is not None and not element.tail.strip():
            element.tail = None
    return etree.tostring(clone, method="c14n")


def _newline(text: str) -> str:
    return "\r\n" if "\r\n" in text else "\n"


def _spliced(
    text: str,
    root: etree._Element,
    created: etree._Element | None,
    added: list[etree._Element],
    old_diagrams: list[etree._Element],
    diagram_lines: list[tuple[int, str]],
) -> str:
    """The new text: old text with the diagram replaced and the collaboration changes inserted."""
    new = set(added)
    if created is not None:
        new.update(created.iter())
    spans = _Spans(text, root, new)
    newline = _newline(text)
    unit = _indent_unit(root)
    edits: list[tuple[int, int, str]] = []

    if old_diagrams:
        start, end = spans.span(old_diagrams[0])
        base = spans.line_indent(start)
        diagram = (newline + base).join(unit * depth + line for depth, line in diagram_lines)
        edits.append((start, end, diagram))
        for extra in old_diagrams[1:]:
            start, end = spans.span(extra)
            while start > 0 and text[start - 1] in " \t\r\n":
                start -= 1
            edits.append((start, end, ""))
    else:
        close = spans.masked.rfind(f"</{_source_qname(root)}")
        if close < 0:
            raise ValueError("no end tag of the root")
        whitespace = len(text[:close]) - len(text[:close].rstrip(" \t\r\n"))
        gap = text[close - whitespace : close]
        base = _child_indent(root)[1:]
        diagram = (newline + base).join(unit * depth + line for depth, line in diagram_lines)
        if "\n" in gap:
            position = close - (len(gap) - gap.rfind("\n") - 1)
            edits.append((position, position, base + diagram + newline))
        else:
            edits.append((close, close, newline + base + diagram + newline))

    if created is not None:
        anchor = created.getnext()
        while anchor is not None and not isinstance(anchor.tag, str):
            anchor = anchor.getnext()
        if anchor is None:
            raise ValueError("nothing after the collaboration")
        position = spans.start(anchor)
        base = spans.line_indent(position) or _child_indent(root)[1:]
        tag = _qualified(root, "collaboration")
        lines = [f'<{tag} id="{created.get("id")}">']
        lines += [unit + _participant_text(p, root) for p in created]
        lines.append(f"</{tag}>")
        edits.append((position, position, (newline + base).join(lines) + newline + base))
    if added:
        collaboration = added[0].getparent()
        existing = [p for p in bpmn_children(collaboration, "participant") if p not in new]
        texts = [_participant_text(p, root) for p in added]
        if existing:
            start, end = spans.span(existing[-1])
            base = spans.line_indent(start)
            edits.append((end, end, "".join(newline + base + text for text in texts)))
        else:  # the first participants: right after the start tag
            start, end = spans.span(collaboration)
            start_tag = spans.start_tag(collaboration)
            outer = spans.line_indent(start) or _child_indent(root)[1:]
            inner = newline + outer + unit
            if start_tag.group(1):  # <bpmn:collaboration ... />
                opening = spans.text[start : start_tag.start(1)].rstrip() + ">"
                closing = f"</{_source_qname(collaboration)}>"
                edits.append((start, end, opening + "".join(inner + t for t in texts) + newline + outer + closing))
            else:
                edits.append((start_tag.end(), start_tag.end(), "".join(inner + t for t in texts)))
    edits.sort(key=lambda e: (e[0], e[1]))
    for (_, end_a, _), (start_b, _, _) in zip(edits, edits[1:], strict=False):
        if start_b < end_a:
            raise ValueError("overlapping edits")
    out = text
    for start, end, replacement in reversed(edits):
        out = out[:start] + replacement + out[end:]
    return out


def _tree_output(
    content: bytes, root: etree._Element, old_diagrams: list[etree._Element], diagram_lines: list[tuple[int, str]]
) -> bytes:
    """Fallback: the whole tree, serialized by lxml."""
    for diagram in old_diagrams:
        previous = diagram.getprevious()
        if previous is not None:
            previous.tail = diagram.tail
        root.remove(diagram)
    unit = _indent_unit(root)
    base = _child_indent(root)[1:]
    newline = "\n"
    text = (newline + base).join(unit * depth + line for depth, line in diagram_lines)
    declarations = "".join(f' xmlns:{p}="{_attr_text(u)}"' for p, u in root.nsmap.items() if p)
    default = root.nsmap.get(None)
    if default:
        declarations += f' xmlns="{_attr_text(default)}"'
    wrapper = etree.fromstring(f"<wrapper{declarations}>{text}</wrapper>".encode())
    diagram = wrapper[0]
    if len(root):
        root[-1].tail = newline + base
    diagram.tail = newline
    root.append(diagram)
    encoding = root.getroottree().docinfo.encoding or "UTF-8"
    declaration = re.match(rb"<\?xml[^>]*\?>", content.lstrip(b"\xef\xbb\xbf"))
    if declaration and encoding.lower().replace("-", "") in ("utf8", "ascii", "usascii"):
        body = etree.tostring(root.getroottree(), encoding="UTF-8", xml_declaration=False)
        return declaration.group(0) + b"\n" + body + b"\n"
    return etree.tostring(root.getroottree(), encoding=encoding, xml_declaration=True) + b"\n"


# ---------------------------------------------------------------------------------------------------------
# The API


def _parse_bpmn(xml: bytes, filename: str) -> etree._Element:
    root = parse_xml(xml, filename)
    if root.tag != bpmn("definitions"):
        raise InvalidModel([ModelProblem(filename, "not a BPMN 2.0 file: the root element is not bpmn:definitions")])
    return root


def layout_bpmn(xml: bytes, filename: str = "<bpmn>", *, _retried: bool = False) -> bytes:
    """The document with a freshly laid out ``bpmndi:BPMNDiagram`` in place of any it had.

    The semantic part is kept byte for byte, except that a process with lanes (or a file with several
    processes) gets a ``bpmn:collaboration`` with one participant (pool) per process when it has none, and
    an existing collaboration gets a participant for each process that lacks one. The same input always
    gives the same bytes. Raises ``InvalidModel`` for what is not a well-formed BPMN file.
    """
    root = _parse_bpmn(xml, filename)
    old_diagrams = root.findall(_DIAGRAM_TAG)
    document = _Document(root)
    collaboration, created, added = document.prepare_collaboration()
    plane_element = document.layout(collaboration)
    used = set(document.ids)
    diagram_lines = _Writer(root, used).lines(plane_element, document.shapes, document.edges)
    expected = _semantic_form(root)

    encoding = (root.getroottree().docinfo.encoding or "UTF-8").lower().replace("-", "")
    if encoding not in ("utf8", "ascii", "usascii"):
        return _tree_output(xml, root, old_diagrams, diagram_lines)
    try:
        text = xml.decode("utf-8")
        out = _spliced(text, root, created, added, old_diagrams, diagram_lines).encode("utf-8")
        if _semantic_form(parse_xml(out, filename)) == expected:
            return out
    except (ValueError, UnicodeDecodeError, InvalidModel):
        pass
    # The text could not be edited in place: lxml writes the tree, and laying that out again writes the
    # diagram the way every later run will (the same bytes each time).
    out = _tree_output(xml, root, old_diagrams, diagram_lines)
    return out if _retried else layout_bpmn(out, filename, _retried=True)


def missing_diagram_elements(xml: bytes, filename: str = "<bpmn>") -> list[str]:
    """Ids of the elements no BPMNShape or BPMNEdge draws, in document order: flow nodes (boundary events
    and those inside subprocesses too), sequence flows, lanes, participants, message flows, data object and
    data store references, text annotations and associations. When the diagram shows a collaboration,
    a process without a participant is listed too: bpmn-js would not show it."""
    root = _parse_bpmn(xml, filename)
    drawn = drawn_ids(root)
    missing = [e.get("id") for e in diagram_elements(root) if e.get("id") not in drawn]
    planes = list(root.iter(f"{{{BPMNDI_NS}}}BPMNPlane"))
    collaborations = {c.get("id") for c in bpmn_children(root, "collaboration")}
    if any(plane.get("bpmnElement") in collaborations for plane in planes):
        referenced = {p.get("processRef") for p in root.iter(bpmn("participant"))}
        missing += [p.get("id") for p in bpmn_children(root, "process") if p.get("id") not in referenced]
    return missing


__all__ = ["Box", "layout_bpmn", "missing_diagram_elements"]
