"""Swagger UI at ``/ui`` (``/api`` redirects there), its assets from swagger-ui-bundle."""

from __future__ import annotations

import html
from pathlib import Path

import swagger_ui_bundle
from aiohttp import web

from deepaas_lite.web.keys import SETTINGS

ASSETS = Path(swagger_ui_bundle.swagger_ui_path)
STATIC = "/ui/static"

_PAGE = """<!DOCTYPE html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <title>deepaas-lite API</title>
  <link rel="stylesheet" href="{static}/swagger-ui.css">
  <link rel="icon" type="image/png" href="{static}/favicon-32x32.png">
</head>
<body>
  <div id="swagger-ui"></div>
  <script src="{static}/swagger-ui-bundle.js"></script>
  <script src="{static}/swagger-ui-standalone-preset.js"></script>
  <script>
{forms}
    window.ui = SwaggerUIBundle({{
      url: "{spec}",
      dom_id: "#swagger-ui",
      deepLinking: true,
      presets: [SwaggerUIBundle.presets.apis, SwaggerUIStandalonePreset],
      plugins: [DeepaasForms],
      layout: "StandaloneLayout",
      validatorUrl: null
    }});
  </script>
</body>
</html>
"""


# A Swagger UI plugin: request body forms that send what they show, files labelled so.
_FORMS = """
    function DeepaasForms(system) {
      var React = system.React;
      function label(schema) {
        if (schema == null) return "any";
        if (schema.type === "string" && schema.format === "binary") return "file";
        if (Object.prototype.hasOwnProperty.call(schema, "items")) {
          return schema.items ? "array<" + label(schema.items) + ">" : "array<any>";
        }
        return schema.type;
      }
      return {
        wrapComponents: {
          // Swagger UI keeps a body's form on the page when its media type changes but
          // clears its values: the fields show values the request lacks, and Execute is
          // refused. Keyed by the media type, the form is made anew, and its fields put
          // what they show in the request, as on "Try it out".
          RequestBody: function (Original) {
            return function (props) {
              return React.createElement(
                Original, Object.assign({}, props, {key: props.contentType})
              );
            };
          }
        },
        components: {
          // An item of a list of files (looked up by type and format): a file input.
          JsonSchema_string_binary: function (props) {
            return React.createElement(props.getComponent("JsonSchema_string"), props);
          }
        },
        fn: {
          getSchemaObjectTypeLabel: function (schema) {
            return label(schema && schema.toJS ? schema.toJS() : schema);
          }
        }
      };
    }"""


def add_static(app: web.Application, base_path: str) -> None:
    app.router.add_static(base_path + STATIC, ASSETS, append_version=False)


async def page(request: web.Request) -> web.Response:
    base = request.app[SETTINGS].base_path
    body = _PAGE.format(
        static=html.escape(base + STATIC), spec=html.escape(base + "/openapi.json"), forms=_FORMS
    )
    return web.Response(text=body, content_type="text/html")


async def redirect(request: web.Request) -> web.Response:
    raise web.HTTPFound(request.app[SETTINGS].base_path + "/ui")
