"""The web UI: plain ES modules and vendored libraries under ``static/``, served beside the
API by ``reelgraph serve`` (``/`` is the page, ``/ui/...`` its assets).

The UI reads and writes only through the REST API's JSON (``/api/v1/...``), so this package
imports no other reelgraph package; ``mount(app)`` is its one seam, called by whoever
composes the server (``reelgraph.cli.serve.web_app``). The API never imports it.

Layout of ``static/``:

* ``index.html``, ``app.css`` - the shell: navigation, connection banner, token dialog.
* ``app.js`` - the hash router (``#/PAGE?param=value``): loads a page's module on first use
  and calls its ``render(main, params)``; a thrown ``ApiError`` becomes a readable message
  with the API's fix text.
* ``api.js`` - fetch wrapper: JSON in and out, ``{error, problem, fix}`` bodies as
  ``ApiError``, retry with a banner while the server is unreachable, the write token kept in
  ``sessionStorage`` only.
* ``dom.js`` - small DOM helpers (``h``, tables, links to nodes, time formatting).
* ``chart.js`` - a small SVG time-series plot (the monitors' check series).
* ``pages/*.js`` - one module per page; ``pages/registry.js`` lists them.
* ``vendor/`` - Cytoscape.js, dagre and cytoscape-dagre from npm with their licences
  (``scripts/vendor-ui`` rebuilds them; users never need a build step or the network).

Adding a page is two small changes: write ``static/pages/NAME.js`` exporting
``async function render(main, params)`` (build DOM with ``h`` from ``../dom.js``, read with
``api.get`` from ``../api.js``), then add one line to ``static/pages/registry.js``:
``{ route: "NAME", title: "Title", load: () => import("./NAME.js") }``. The navigation,
routing, error display and retries come with the shell.
"""

from reelgraph.ui.assets import STATIC, mount

__all__ = ["STATIC", "mount"]
