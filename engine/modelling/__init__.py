"""Tools for the BPMN and DMN files process owners edit: automatic diagram layout, schema checks."""

from __future__ import annotations

from engine.modelling.bpmn_files import bpmn_xsd_errors, dmn_xsd_errors
from engine.modelling.layout import layout_bpmn, missing_diagram_elements

__all__ = ["bpmn_xsd_errors", "dmn_xsd_errors", "layout_bpmn", "missing_diagram_elements"]
