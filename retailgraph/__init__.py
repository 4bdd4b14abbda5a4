"""RetailGraph: one federated GraphQL graph in front of a retailer's ERP."""
