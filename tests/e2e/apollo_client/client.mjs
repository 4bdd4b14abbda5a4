// Runs queries through Apollo Client against a gateway, and prints what was sent and
// what came back as JSON.
//
// Usage: node client.mjs <graphql url> <api key> apq
//        node client.mjs <graphql url> <api key> manifest <manifest.json>
//        node client.mjs <graphql url> <api key> defer <sku>
//
// "apq": automatic persisted queries (Apollo's hash of each document, the full query
// sent only when the gateway does not know the hash). "manifest": the ids of a persisted
// query manifest, as a partner's build would use them; the query text is never sent.
// "defer": a product page whose stock and recent orders are deferred, watched with
// Apollo Client's handler for deferSpec=20220824; prints every state it went through.
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';

import { ApolloClient, HttpLink, InMemoryCache, gql } from '@apollo/client';
import { Defer20220824Handler } from '@apollo/client/incremental';
import { PersistedQueryLink } from '@apollo/client/link/persisted-queries';
import { generatePersistedQueryIdsFromManifest } from '@apollo/persisted-query-lists';

const [url, apiKey, mode, argument] = process.argv.slice(2);
if (!url || !apiKey || !['apq', 'manifest', 'defer'].includes(mode)) {
  console.error('usage: node client.mjs <url> <api key> apq|manifest|defer [manifest.json|sku]');
  process.exit(2);
}

const sent = [];
async function recordingFetch(input, init) {
  const target = new URL(typeof input === 'string' ? input : input.url);
  const body = init?.body ? JSON.parse(init.body) : null;
  const extensions = body?.extensions ?? JSON.parse(target.searchParams.get('extensions') ?? 'null');
  const response = await fetch(input, init);
  sent.push({
    method: init?.method ?? 'GET',
    query: Boolean(body?.query ?? target.searchParams.get('query')),
    hash: extensions?.persistedQuery?.sha256Hash ?? null,
    status: response.status,
    accept: new Headers(init?.headers).get('accept'),
    contentType: response.headers.get('content-type'),
  });
  return response;
}

if (mode === 'defer') {
  const client = new ApolloClient({
    cache: new InMemoryCache(),
    link: new HttpLink({ uri: url, headers: { 'x-api-key': apiKey }, fetch: recordingFetch }),
    incrementalHandler: new Defer20220824Handler(),
  });
  const query = gql`
    query ProductPage($sku: ID!) {
      product(sku: $sku) {
        sku
        name
        ... @defer(label: "stock") {
          availability(channel: "store") { available }
          stockLevels { locationId onHand }
        }
        ... @defer(label: "orders") {
          recentOrders(first: 3) { number status }
        }
      }
    }
  `;
  const states = await new Promise((resolve, reject) => {
    const seen = [];
    const subscription = client
      .watchQuery({ query, variables: { sku: argument }, fetchPolicy: 'no-cache' })
      .subscribe({
        next(result) {
          if (result.loading && result.dataState === 'empty') return;
          seen.push({ dataState: result.dataState, data: result.data });
          if (result.dataState === 'complete') {
            subscription.unsubscribe();
            resolve(seen);
          }
        },
        error: reject,
      });
  });
  console.log(JSON.stringify({ states, sent }));
  process.exit(0);
}

let persisted;
let query;
let variables;
if (mode === 'apq') {
  persisted = new PersistedQueryLink({
    sha256: (text) => createHash('sha256').update(text).digest('hex'),
  });
  query = gql`
    query ApolloClientProduct($sku: ID!) {
      product(sku: $sku) { sku name }
    }
  `;
  variables = { sku: 'ST-0002-01' };
} else {
  const manifest = JSON.parse(await readFile(argument, 'utf8'));
  persisted = new PersistedQueryLink(
    generatePersistedQueryIdsFromManifest({ loadManifest: async () => manifest }),
  );
  const operation = manifest.operations.find((op) => op.name === 'PartnerProduct');
  query = gql(operation.body);
  variables = { sku: 'ST-0002-01', channel: 'web' };
}

const client = new ApolloClient({
  cache: new InMemoryCache(),
  link: persisted.concat(
    new HttpLink({ uri: url, headers: { 'x-api-key': apiKey }, fetch: recordingFetch }),
  ),
});
const results = [];
for (let i = 0; i < 2; i += 1) {
  const { data } = await client.query({ query, variables, fetchPolicy: 'no-cache' });
  results.push(data);
}
console.log(JSON.stringify({ results, sent }));
