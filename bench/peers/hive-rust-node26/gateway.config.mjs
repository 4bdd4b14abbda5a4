// Hive Gateway as it ships, with Hive Router's runtime (its Rust query planner) in place
// of the default stitching runtime. Deduplication of identical in-flight subgraph
// requests is on by default there, as it is in ours ([gateway] deduplicate_fetches).
import { defineConfig } from "@graphql-hive/gateway";
import { unifiedGraphHandler } from "@graphql-hive/router-runtime";

export const gatewayConfig = defineConfig({ unifiedGraphHandler });
