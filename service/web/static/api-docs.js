// The API's documentation page (/api/docs): Swagger UI, shipped in static/vendor/, over the
// OpenAPI document the page names. A file of its own: the Content-Security-Policy allows no
// inline script. No validator badge (it would load an image from another site).
window.addEventListener("DOMContentLoaded", function () {
  var root = document.getElementById("swagger-ui");
  window.SwaggerUIBundle({
    url: root.dataset.spec,
    domNode: root,
    validatorUrl: null,
    deepLinking: false,
    persistAuthorization: false,
    tryItOutEnabled: false,
  });
});
