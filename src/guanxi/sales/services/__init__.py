"""Every write to sales data, one module per entity (the app is too large for one file):
leads, opportunities, products, quotes, orders. Each service checks the access policy,
validates with errors keyed by field, audits and emits its event on commit."""
