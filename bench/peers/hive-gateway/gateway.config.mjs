// Outbound deduplication of identical in-flight subgraph requests is on by default in Hive
// Gateway; the benchmark compares gateways with it off.
import { defineConfig } from "@graphql-hive/gateway";

export const gatewayConfig = defineConfig({
  transportEntries: {
    "*.http": { options: { deduplicateInflightRequests: false } },
  },
});
