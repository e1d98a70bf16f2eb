// Starts Swagger UI on the OpenAPI document served beside this page. A file rather than an
// inline script, so the gateway's Content-Security-Policy (script-src 'self') holds here too.
"use strict";
window.ui = SwaggerUIBundle({
  url: "/api/docs/openapi.json",
  dom_id: "#swagger-ui",
  presets: [SwaggerUIBundle.presets.apis],
  layout: "BaseLayout",
  deepLinking: true,
  // Never load another document or configuration named in the page's query string.
  queryConfigEnabled: false,
  // The public validator is another origin: its badge would be refused by the CSP, and the
  // document would be sent off the machine.
  validatorUrl: null,
  // The access token stays in memory only: nothing sensitive goes to localStorage.
  persistAuthorization: false,
  displayRequestDuration: true,
  defaultModelsExpandDepth: 0,
  tryItOutEnabled: false,
});
