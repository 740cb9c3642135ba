"""Every read of sales data, scoped by the acting user (one module per entity)."""
