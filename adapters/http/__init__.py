"""The product's one HTTP client: aiohttp over the network, an ASGI call in process."""
