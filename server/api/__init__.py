"""The REST API's plumbing: route declaration and the OpenAPI document (`spec`), the one
registry of operations (`registry`), problem+json errors (`problems`) and the shapes every
resource shares (`schemas`). The resources themselves live in their domains' `views`."""
