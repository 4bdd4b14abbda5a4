// The console's way to the gateway: GraphQL over HTTP, graphql-transport-ws for live
// updates, and the console's own JSON, each sent with the operator's credential.
//
// A page cannot send a header when it is opened, so the credential is asked for once and
// kept for this tab only (sessionStorage): closing the tab forgets it.
"use strict";

const RetailGraph = (() => {
  const CREDENTIAL = "retailgraph.console.credential";

  const credential = {
    get: () => sessionStorage.getItem(CREDENTIAL),
    set: (value) => sessionStorage.setItem(CREDENTIAL, value),
    clear: () => sessionStorage.removeItem(CREDENTIAL),
    header: () => "Bearer " + sessionStorage.getItem(CREDENTIAL),
  };

  // The gateway refused the credential (401) or found it short of the scope (403).
  class Refused extends Error {
    constructor(status, code, message) {
      super(message);
      this.status = status;
      this.code = code;
    }
  }

  async function request(url, init) {
    const response = await fetch(url, {
      ...init,
      headers: { ...init.headers, authorization: credential.header() },
      cache: "no-store",
    });
    const body = await response.json().catch(() => null);
    if (response.status === 401 || response.status === 403) {
      const error = body && body.errors && body.errors[0];
      throw new Refused(
        response.status,
        error && error.extensions ? error.extensions.code : String(response.status),
        error ? error.message : response.statusText,
      );
    }
    if (body === null) {
      throw new Error(`${url} answered ${response.status}`);
    }
    return body;
  }

  // The whole answer, data and errors: a field the supergraph lacks is an error the
  // caller may expect (a panel for a feature not deployed yet).
  function query(endpoint, document, variables) {
    return request(endpoint, {
      method: "POST",
      headers: {
        "content-type": "application/json",
        accept: "application/graphql-response+json, application/json",
      },
      body: JSON.stringify({ query: document, variables: variables || {} }),
    });
  }

  function getJson(url) {
    return request(url, { method: "GET", headers: { accept: "application/json" } });
  }

  // Subscriptions over one graphql-transport-ws socket that reconnects after a blip and
  // resumes each subscription right after the last event it delivered (`after: cursor`),
  // so nothing is missed or repeated. Without a cursor yet, or with one the gateway no
  // longer knows (CURSOR_EXPIRED after a restart), the subscriber re-reads its state
  // (`onReset`) and subscribes afresh.
  class LiveSocket {
    constructor(url, onStatus) {
      this.url = url;
      this.onStatus = onStatus;
      this.subscriptions = new Map();
      this.socket = null;
      this.delay = 500;
      this.closed = false;
      this.reconnects = 0;
    }

    subscribe(id, document, variables, handlers) {
      this.subscriptions.set(id, { document, variables, cursor: null, ...handlers });
      if (this.ready) this._send(id);
    }

    unsubscribeAll() {
      for (const id of this.subscriptions.keys()) {
        if (this.ready) this.socket.send(JSON.stringify({ id, type: "complete" }));
      }
      this.subscriptions.clear();
    }

    connect() {
      this.closed = false;
      this.ready = false;
      const socket = new WebSocket(this.url, "graphql-transport-ws");
      this.socket = socket;
      this.onStatus("connecting");
      socket.onopen = () => {
        socket.send(
          JSON.stringify({
            type: "connection_init",
            payload: { authorization: credential.header() },
          }),
        );
      };
      socket.onmessage = (message) => this._receive(JSON.parse(message.data));
      socket.onclose = (event) => {
        if (this.socket !== socket) return;
        this.ready = false;
        if (this.closed) return;
        // 4401/4403: the credential is refused; reconnecting will not change that.
        if (event.code === 4401 || event.code === 4403) {
          this.onStatus("refused");
          return;
        }
        this.onStatus("reconnecting");
        setTimeout(() => this.connect(), this.delay);
        this.reconnects += 1;
        this.delay = Math.min(this.delay * 2, 10000);
      };
    }

    // A network blip, as a test or an impatient operator makes one.
    drop() {
      if (this.socket) this.socket.close(4000, "dropped");
    }

    close() {
      this.closed = true;
      if (this.socket) this.socket.close(1000, "bye");
    }

    _receive(message) {
      const subscription = this.subscriptions.get(message.id);
      if (message.type === "connection_ack") {
        this.ready = true;
        this.delay = 500;
        this.onStatus("live");
        for (const id of this.subscriptions.keys()) this._send(id);
      } else if (message.type === "ping") {
        this.socket.send(JSON.stringify({ type: "pong" }));
      } else if (message.type === "next" && subscription) {
        const data = message.payload.data;
        if (!data) return;
        const event = Object.values(data)[0];
        if (event && event.cursor) subscription.cursor = event.cursor;
        subscription.onEvent(event);
      } else if (message.type === "error" && subscription) {
        const codes = message.payload.map((e) => e.extensions && e.extensions.code);
        if (codes.includes("CURSOR_EXPIRED") || codes.includes("INVALID_CURSOR")) {
          subscription.cursor = null;
          this._send(message.id);
        } else {
          this.onStatus("error: " + message.payload.map((e) => e.message).join("; "));
        }
      }
    }

    _send(id) {
      const subscription = this.subscriptions.get(id);
      const after = subscription.cursor;
      this.socket.send(
        JSON.stringify({
          id,
          type: "subscribe",
          payload: {
            query: subscription.document,
            variables: { ...subscription.variables, after },
          },
        }),
      );
      if (after === null && subscription.onReset) subscription.onReset();
    }
  }

  return { credential, Refused, query, getJson, LiveSocket };
})();
