"""Platform glue: converters between a platform's request/response and the core's."""
