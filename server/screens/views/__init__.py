"""REST views of the screens domain, one module per resource."""
