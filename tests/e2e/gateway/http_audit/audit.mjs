// Runs graphql-http's server audits against a URL and prints the results as JSON.
// Usage: node audit.mjs http://127.0.0.1:4000/graphql
import { auditServer } from 'graphql-http';

const url = process.argv[2];
if (!url) {
  console.error('usage: node audit.mjs <graphql endpoint url>');
  process.exit(2);
}
const results = await auditServer({ url });
console.log(
  JSON.stringify(
    results.map((r) => ({ id: r.id, name: r.name, status: r.status, reason: r.reason ?? null })),
  ),
);
