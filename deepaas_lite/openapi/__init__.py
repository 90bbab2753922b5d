"""The OpenAPI 3 document and the Swagger UI that shows it."""
