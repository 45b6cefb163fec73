"""marshmallow schemas: the one source of request validation and of the OpenAPI document."""
