"""REST views of the accounts domain, one module per resource."""
