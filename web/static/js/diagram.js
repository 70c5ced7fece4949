/*
 * Plūsma: draws BPMN diagrams with bpmn-js's navigated viewer (the global BpmnJS of
 * /vendor/bpmn-js/dist/bpmn-navigated-viewer.production.min.js, loaded before this script).
 *
 * Each element with data-bpmn-diagram gets one viewer:
 *   data-xml-url     the diagram: raw BPMN XML, or Camunda's {"id": ..., "bpmn20Xml": ...} JSON
 *                    (GET /engine-rest/process-definition/.../xml), fetched with same-origin credentials
 *   data-completed   JSON array of element ids drawn as done    (marker class plusma-completed)
 *   data-active      JSON array of element ids drawn as current (marker class plusma-active)
 *   data-error-text  shown in place of the diagram when it cannot be loaded or drawn
 *
 * While it works the element has data-diagram-state="loading", then "ready" or "failed".
 *
 * Keyboard: diagram-js 15 binds its own keys to the canvas <svg> and can no longer be bound to another
 * element, and it pans only with Ctrl+arrows. The container is the one tab stop (the template gives it
 * tabindex="0"), so the <svg> leaves the tab order and the container takes the keys itself:
 * arrows pan (Shift: faster), + and - zoom, 0 fits the whole diagram.
 *
 * Content swapped in by htmx is searched too (htmx:load). No build step: plain ES2017.
 */
(function () {
  'use strict';

  var ACTIVE_MARKER = 'plusma-active';
  var COMPLETED_MARKER = 'plusma-completed';
  var PAN_STEP = 50;
  var PAN_STEP_FAST = 200;
  var ZOOM_FACTOR = 1.25;

  function elementIds(container, attribute) {
    var text = container.getAttribute(attribute);
    if (text === null || text.trim() === '') {
      return [];
    }
    var ids;
    try {
      ids = JSON.parse(text);
    } catch (error) {
      throw new Error(attribute + ' is not JSON: ' + error.message);
    }
    if (!Array.isArray(ids) || !ids.every(function (id) { return typeof id === 'string'; })) {
      throw new Error(attribute + ' must be a JSON array of element ids (strings), got ' + text);
    }
    return ids;
  }

  async function fetchXml(url) {
    var response = await fetch(url, {
      credentials: 'same-origin',
      headers: { Accept: 'application/json, application/xml, text/xml' }
    });
    if (!response.ok) {
      throw new Error('GET ' + url + ' answered ' + response.status);
    }
    var contentType = (response.headers.get('Content-Type') || '').toLowerCase();
    if (contentType.indexOf('json') === -1) {
      return response.text();
    }
    var body = await response.json();
    if (!body || typeof body.bpmn20Xml !== 'string') {
      throw new Error('GET ' + url + ' answered JSON without a bpmn20Xml string');
    }
    return body.bpmn20Xml;
  }

  function addMarkers(viewer, completed, active) {
    var canvas = viewer.get('canvas');
    var registry = viewer.get('elementRegistry');
    var mark = function (id, marker) {
      if (registry.get(id)) {
        canvas.addMarker(id, marker);
      } else {
        console.warn('Plūsma diagram: no element ' + JSON.stringify(id) + ' in the diagram for ' + marker);
      }
    };
    // An element that is active again (a loop) is drawn as active only.
    completed.forEach(function (id) {
      if (active.indexOf(id) === -1) {
        mark(id, COMPLETED_MARKER);
      }
    });
    active.forEach(function (id) { mark(id, ACTIVE_MARKER); });
  }

  function bindKeys(container, viewer) {
    var canvas = viewer.get('canvas');
    var svg = canvas.getContainer().querySelector('svg');
    if (svg) {
      // Still focusable by a click (diagram-js focuses it), but not a second tab stop.
      svg.setAttribute('tabindex', '-1');
    }
    container.addEventListener('keydown', function (event) {
      // diagram-js already handled it (Ctrl+arrows on the focused <svg>).
      if (event.defaultPrevented || event.altKey) {
        return;
      }
      var step = event.shiftKey ? PAN_STEP_FAST : PAN_STEP;
      var pans = {
        ArrowLeft: { dx: step, dy: 0 },
        ArrowRight: { dx: -step, dy: 0 },
        ArrowUp: { dx: 0, dy: step },
        ArrowDown: { dx: 0, dy: -step }
      };
      if (pans[event.key]) {
        canvas.scroll(pans[event.key]);
      } else if (event.ctrlKey || event.metaKey) {
        // Ctrl with + - 0 is the browser's own zoom.
        return;
      } else if (event.key === '+' || event.key === '=') {
        canvas.zoom(canvas.zoom() * ZOOM_FACTOR);
      } else if (event.key === '-') {
        canvas.zoom(canvas.zoom() / ZOOM_FACTOR);
      } else if (event.key === '0') {
        canvas.zoom('fit-viewport', 'auto');
      } else {
        return;
      }
      event.preventDefault();
    });
  }

  function showError(container, error) {
    console.error('Plūsma diagram (' + (container.getAttribute('data-xml-url') || 'no data-xml-url') + '):', error);
    container.textContent = '';
    var message = document.createElement('p');
    message.className = 'plusma-diagram-error';
    message.textContent = container.getAttribute('data-error-text') || 'The diagram could not be shown.';
    container.appendChild(message);
    container.setAttribute('data-diagram-state', 'failed');
  }

  /** Draws one [data-bpmn-diagram] element; resolves when it is drawn or its error is shown. */
  async function render(container) {
    container.setAttribute('data-diagram-state', 'loading');
    try {
      if (typeof window.BpmnJS !== 'function') {
        throw new Error('BpmnJS is not loaded: include bpmn-navigated-viewer.production.min.js before diagram.js');
      }
      var url = container.getAttribute('data-xml-url');
      if (!url) {
        throw new Error('the element has no data-xml-url');
      }
      var completed = elementIds(container, 'data-completed');
      var active = elementIds(container, 'data-active');
      var xml = await fetchXml(url);
      var viewer = new window.BpmnJS({ container: container });
      try {
        await viewer.importXML(xml);
      } catch (error) {
        viewer.destroy();
        throw error;
      }
      viewer.get('canvas').zoom('fit-viewport', 'auto');
      addMarkers(viewer, completed, active);
      bindKeys(container, viewer);
      container.plusmaViewer = viewer;
      container.setAttribute('data-diagram-state', 'ready');
    } catch (error) {
      showError(container, error);
    }
  }

  function renderAll(root) {
    var found = [];
    if (root.matches && root.matches('[data-bpmn-diagram]')) {
      found.push(root);
    }
    Array.prototype.push.apply(found, root.querySelectorAll('[data-bpmn-diagram]'));
    return Promise.all(found.filter(function (container) {
      return !container.hasAttribute('data-diagram-state');
    }).map(render));
  }

  window.PlusmaDiagram = { render: render, renderAll: renderAll };

  if (document.readyState === 'loading') {
    document.addEventListener('DOMContentLoaded', function () { renderAll(document); });
  } else {
    renderAll(document);
  }
  document.addEventListener('htmx:load', function (event) { renderAll(event.target); });
}());
