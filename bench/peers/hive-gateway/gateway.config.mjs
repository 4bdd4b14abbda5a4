// Hive Gateway as it ships: outbound deduplication of identical in-flight subgraph
// requests is on by default there, as it is in ours ([gateway] deduplicate_fetches).
import { defineConfig } from "@graphql-hive/gateway";

export const gatewayConfig = defineConfig({});
