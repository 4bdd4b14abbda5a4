// The operators' console: the ERP queue with its dead letters, event lag and outbox depth,
// the last reconciliation, promotions with their low-stock pauses, and one store live.
//
// Every number comes from the gateway: its GraphQL (as any client reads it), its
// subscriptions, and /console/kpis for the gauges GraphQL does not have. Text from the
// gateway is only ever set as text, never parsed as HTML.
"use strict";

(() => {
  const { credential, Refused, query, getJson, LiveSocket } = RetailGraph;
  const GRAPHQL = new URL(document.body.dataset.graphql, location.href);
  const KPIS = new URL(document.body.dataset.kpis, location.href);
  const SOCKET = GRAPHQL.href.replace(/^http/, "ws");
  const REFRESH_MS = 15000;

  const ERP_QUEUE = `query ConsoleErpQueue {
    erpQueue {
      waiting deadLettered oldestWaitingSeconds
      kinds { kind pending inProgress deadLettered }
      deadLetters(first: 50) {
        orderId orderNumber kind reference attempts lastError createdAt lastAttemptAt
      }
      history(minutes: 60) { at waiting }
    }
  }`;
  const REPLAY = `mutation ConsoleReplay($orderId: ID!) {
    replayErpSync(orderId: $orderId) { replayed erpSync { status } }
  }`;
  const PROMOTIONS = `query ConsolePromotions {
    promotions {
      id name status current { lowStockThreshold }
      lowStockPauses(first: 50) { sku region available since }
    }
  }`;
  const RECONCILIATION = `query ConsoleReconciliation {
    inventoryReconciliations(last: 1) {
      id ranAt compared divergentPairs divergentUnits
      divergences(first: 20) {
        sku locationId erp ours difference pendingMovements heldByOrders cause
      }
    }
  }`;
  const STORES = `query ConsoleStores { locations(kind: STORE) { id name region } }`;
  const STORE_ORDERS = `query ConsoleStoreOrders($id: ID!) {
    location(id: $id) { recentOrders(first: 10) { id number status createdAt } }
  }`;
  const ORDERS_LIVE = `subscription ConsoleOrdersAtStore($locationId: ID!, $after: String) {
    ordersAtLocation(locationId: $locationId, after: $after) {
      cursor occurredAt kind orderId number status
    }
  }`;
  const STOCK_LIVE = `subscription ConsoleStockAtStore($locationId: ID!, $after: String) {
    stockChanged(locationId: $locationId, after: $after) {
      cursor occurredAt sku stockLevel { onHand reserved available } product { name }
    }
  }`;

  // -- small DOM helpers -------------------------------------------------------------

  function el(tag, attributes, ...children) {
    const node = document.createElement(tag);
    for (const [name, value] of Object.entries(attributes || {})) {
      if (name.startsWith("on")) node.addEventListener(name.slice(2), value);
      else if (value !== undefined && value !== null) node.setAttribute(name, value);
    }
    for (const child of children.flat()) {
      if (child !== null && child !== undefined) {
        node.append(child instanceof Node ? child : String(child));
      }
    }
    return node;
  }

  function table(headings, rows, empty) {
    if (!rows.length) return el("p", { class: "empty" }, empty);
    return el(
      "table",
      {},
      el("thead", {}, el("tr", {}, headings.map((h) => el("th", {}, h)))),
      el("tbody", {}, rows),
    );
  }

  function age(seconds) {
    if (seconds === null || seconds === undefined) return "–";
    const s = Math.round(seconds);
    if (s < 60) return `${s}s`;
    if (s < 3600) return `${Math.floor(s / 60)}m ${s % 60}s`;
    return `${Math.floor(s / 3600)}h ${Math.floor((s % 3600) / 60)}m`;
  }

  const time = (iso) => new Date(iso).toLocaleTimeString();
  const when = (iso) => new Date(iso).toLocaleString();
  const lower = (name) => name.toLowerCase().replace(/_/g, " ");

  function fill(id, ...children) {
    document.getElementById(id).replaceChildren(...children);
  }

  function failed(id, error) {
    fill(id, el("p", { class: "error" }, error.message || String(error)));
  }

  // -- plots ---------------------------------------------------------------------------

  const COLOURS = ["#2563eb", "#dc2626", "#16a34a", "#9333ea", "#ea580c", "#0891b2"];
  const plots = {};

  function hour(xs) {
    const end = xs.length ? xs[xs.length - 1] : Date.now() / 1000;
    return [end - 3600, end];
  }

  // One line per series over the last hour; the plot is made again when its series change.
  function plot(id, label, xs, series) {
    const target = document.getElementById(id);
    const names = Object.keys(series);
    const data = [xs, ...names.map((name) => series[name])];
    const key = names.join("\u0000");
    const existing = plots[id];
    if (existing && existing.key === key) {
      existing.plot.setData(data);
      return;
    }
    if (existing) existing.plot.destroy();
    target.replaceChildren();
    const options = {
      width: Math.max(target.clientWidth, 300),
      height: 160,
      scales: {
        // The gateway's clock, not the browser's: the hour up to the newest point.
        x: { time: true, range: (u) => hour(u.data[0]) },
        y: { range: (u, min, max) => [0, Math.max(max, 1)] },
      },
      legend: { show: names.length > 1 },
      axes: [{}, { label, size: 60 }],
      series: [
        {},
        ...names.map((name, i) => ({
          label: name,
          stroke: COLOURS[i % COLOURS.length],
          width: 2,
        })),
      ],
    };
    plots[id] = { key, plot: new uPlot(options, data, target) };
  }

  // -- the panels ------------------------------------------------------------------------

  async function refreshErpQueue() {
    const answer = await query(GRAPHQL, ERP_QUEUE);
    if (!answer.data) throw new Error(answer.errors.map((e) => e.message).join("; "));
    const queue = answer.data.erpQueue;
    fill(
      "erp-summary",
      el("span", { class: "figure", "data-testid": "backlog" }, queue.waiting),
      " postings waiting for the ERP",
      el("span", { class: "muted" }, ` (oldest ${age(queue.oldestWaitingSeconds)})`),
      " · ",
      el("span", { class: queue.deadLettered ? "figure bad" : "figure" }, queue.deadLettered),
      " dead letters",
    );
    fill(
      "erp-kinds",
      table(
        ["Kind", "Pending", "In progress", "Dead letters"],
        queue.kinds.map((k) =>
          el(
            "tr",
            {},
            el("td", {}, lower(k.kind)),
            el("td", {}, k.pending),
            el("td", {}, k.inProgress),
            el("td", {}, k.deadLettered),
          ),
        ),
        "",
      ),
    );
    fill(
      "dead-letters",
      table(
        ["Order", "Document", "Attempts", "Last error", "Owed since", ""],
        queue.deadLetters.map((dead) =>
          el(
            "tr",
            { "data-order": dead.orderId },
            el("td", {}, dead.orderNumber),
            el("td", {}, `${lower(dead.kind)} ${dead.reference}`),
            el("td", {}, dead.attempts),
            el("td", { class: "error-text" }, dead.lastError || ""),
            el("td", {}, when(dead.createdAt)),
            el("td", {}, el("button", { onclick: (e) => replay(e.target, dead) }, "Replay")),
          ),
        ),
        "No dead letters: every posting reached the ERP or is on its way.",
      ),
    );
    plot(
      "backlog-plot",
      "postings",
      queue.history.map((p) => Date.parse(p.at) / 1000),
      { waiting: queue.history.map((p) => p.waiting) },
    );
  }

  async function replay(button, dead) {
    button.disabled = true;
    button.textContent = "Replaying…";
    try {
      const answer = await query(GRAPHQL, REPLAY, { orderId: dead.orderId });
      if (answer.errors) throw new Error(answer.errors.map((e) => e.message).join("; "));
      const replayed = answer.data.replayErpSync.replayed;
      flash(`Order ${dead.orderNumber}: ${replayed} posting(s) sent back to the queue.`);
    } catch (error) {
      flash(`Order ${dead.orderNumber}: ${error.message}`, true);
    }
    await guarded("erp-summary", refreshErpQueue);
  }

  async function refreshKpis() {
    const kpis = await getJson(KPIS);
    const latest = kpis.latest;
    if (!latest) {
      fill("lag", el("p", { class: "empty" }, "No reading yet."));
      return;
    }
    const lag = Object.entries(latest.eventLag);
    fill(
      "lag",
      table(
        ["Consumer", "Lag"],
        lag.map(([consumer, seconds]) =>
          el(
            "tr",
            {},
            el("td", {}, consumer),
            el("td", { class: seconds > 300 ? "bad" : "" }, age(seconds)),
          ),
        ),
        "No consumer reports its lag.",
      ),
    );
    fill(
      "outbox",
      table(
        ["Domain", "Events not yet relayed"],
        Object.entries(latest.outboxDepth).map(([domain, depth]) =>
          el("tr", {}, el("td", {}, domain), el("td", { class: depth ? "bad" : "" }, depth)),
        ),
        "No domain reports its outbox.",
      ),
    );
    const unreachable = Object.entries(latest.unreachable);
    fill(
      "kpi-sources",
      unreachable.length
        ? el("p", { class: "error" }, "Not read: " + unreachable.map(([s, why]) => `${s} (${why})`).join(", "))
        : "",
    );
    const consumers = [...new Set(kpis.history.flatMap((r) => Object.keys(r.eventLag)))].sort();
    const series = {};
    for (const consumer of consumers) {
      series[consumer] = kpis.history.map((r) => r.eventLag[consumer] ?? null);
    }
    plot("lag-plot", "seconds", kpis.history.map((r) => Date.parse(r.at) / 1000), series);
  }

  async function refreshReconciliation() {
    const answer = await query(GRAPHQL, RECONCILIATION);
    const reports = answer.data && answer.data.inventoryReconciliations;
    if (!reports || !reports.length) {
      fill("reconciliation", el("p", { class: "empty" }, "No reconciliation yet."));
      return;
    }
    const last = reports[0];
    fill(
      "reconciliation",
      el(
        "p",
        {},
        `Ran ${when(last.ranAt)}: ${last.compared} SKU-locations compared, `,
        el("span", { class: last.divergentPairs ? "figure bad" : "figure" }, last.divergentPairs),
        ` diverge by ${last.divergentUnits} units.`,
      ),
      table(
        ["SKU", "Location", "ERP", "Ours", "Difference", "Pending moves", "Held by orders", "Likely cause"],
        last.divergences.map((d) =>
          el(
            "tr",
            {},
            el("td", {}, d.sku),
            el("td", {}, d.locationId),
            el("td", {}, d.erp),
            el("td", {}, d.ours),
            el("td", {}, d.difference),
            el("td", {}, d.pendingMovements),
            el("td", {}, d.heldByOrders),
            el("td", {}, lower(d.cause)),
          ),
        ),
        "No divergence.",
      ),
    );
  }

  async function refreshPromotions() {
    const answer = await query(GRAPHQL, PROMOTIONS);
    if (!answer.data) throw new Error(answer.errors.map((e) => e.message).join("; "));
    const rows = answer.data.promotions.map((promotion) => {
      const regions = {};
      for (const pause of promotion.lowStockPauses) {
        (regions[pause.region] = regions[pause.region] || []).push(pause);
      }
      const threshold = promotion.current.lowStockThreshold;
      const paused = Object.entries(regions).map(([region, pauses]) =>
        el(
          "div",
          {},
          el("strong", {}, region),
          `: paused for ${pauses.length} SKU(s) `,
          el(
            "span",
            { class: "muted" },
            pauses.map((p) => `${p.sku} (${p.available} left)`).join(", "),
          ),
        ),
      );
      return el(
        "tr",
        {},
        el("td", {}, promotion.name),
        el("td", {}, el("span", { class: `status ${promotion.status}` }, lower(promotion.status))),
        el("td", {}, threshold === null ? "–" : `below ${threshold}`),
        el("td", {}, paused.length ? paused : el("span", { class: "muted" }, "in force in every region")),
      );
    });
    fill(
      "promotions",
      table(["Promotion", "Status", "Low stock", "Pauses per region"], rows, "No promotions."),
    );
  }

  // -- the store view: live over the gateway's subscriptions ------------------------------

  const store = { socket: null, orders: new Map(), stock: new Map() };

  function connection(status) {
    const badge = document.getElementById("store-connection");
    badge.textContent = status;
    badge.className = "badge " + status.split(":")[0];
  }

  function renderStore() {
    const orders = [...store.orders.values()].sort((a, b) => b.at.localeCompare(a.at));
    fill(
      "store-orders",
      table(
        ["Order", "Status", "Since"],
        orders.slice(0, 30).map((o) =>
          el(
            "tr",
            { class: o.fresh ? "fresh" : "", "data-number": o.number },
            el("td", {}, o.number),
            el("td", {}, lower(o.status)),
            el("td", {}, time(o.at)),
          ),
        ),
        "No pickup orders yet.",
      ),
    );
    const stock = [...store.stock.values()].sort((a, b) => b.at.localeCompare(a.at));
    fill(
      "store-stock",
      table(
        ["SKU", "Product", "On hand", "Reserved", "Available", "Changed"],
        stock.slice(0, 30).map((s) =>
          el(
            "tr",
            { "data-sku": s.sku },
            el("td", {}, s.sku),
            el("td", {}, s.name),
            el("td", {}, s.onHand),
            el("td", {}, s.reserved),
            el("td", {}, s.available),
            el("td", {}, time(s.at)),
          ),
        ),
        "Stock changes at this store appear here as they happen.",
      ),
    );
  }

  async function loadStoreOrders(locationId) {
    const answer = await query(GRAPHQL, STORE_ORDERS, { id: locationId });
    const location = answer.data && answer.data.location;
    for (const order of location ? location.recentOrders : []) {
      if (!store.orders.has(order.id)) {
        store.orders.set(order.id, {
          number: order.number,
          status: order.status,
          at: order.createdAt,
          fresh: false,
        });
      }
    }
    renderStore();
  }

  function watchStore(locationId) {
    store.orders.clear();
    store.stock.clear();
    renderStore();
    if (!store.socket) {
      store.socket = new LiveSocket(SOCKET, connection);
      window.retailgraphConsole.socket = store.socket;
      store.socket.connect();
    }
    store.socket.unsubscribeAll();
    store.socket.subscribe("orders", ORDERS_LIVE, { locationId }, {
      onEvent: (update) => {
        store.orders.set(update.orderId, {
          number: update.number,
          status: update.status,
          at: update.occurredAt,
          fresh: true,
        });
        renderStore();
      },
      // No cursor to resume from: what the store holds now, then what follows.
      onReset: () => guarded("store", () => loadStoreOrders(locationId)),
    });
    store.socket.subscribe("stock", STOCK_LIVE, { locationId }, {
      onEvent: (change) => {
        store.stock.set(change.sku, {
          sku: change.sku,
          name: change.product ? change.product.name : "",
          onHand: change.stockLevel.onHand,
          reserved: change.stockLevel.reserved,
          available: change.stockLevel.available,
          at: change.occurredAt,
        });
        renderStore();
      },
    });
  }

  async function loadStores() {
    const answer = await query(GRAPHQL, STORES);
    const stores = (answer.data && answer.data.locations) || [];
    const select = document.getElementById("store-select");
    select.replaceChildren(
      ...stores.map((s) => el("option", { value: s.id }, `${s.name} (${s.id}, ${s.region})`)),
    );
    const chosen = sessionStorage.getItem("retailgraph.console.store");
    if (chosen && stores.some((s) => s.id === chosen)) select.value = chosen;
    if (select.value) watchStore(select.value);
  }

  // -- the page ----------------------------------------------------------------------------

  function flash(message, bad) {
    const note = document.getElementById("flash");
    note.textContent = message;
    note.className = bad ? "error" : "note";
  }

  async function guarded(panel, refresh) {
    try {
      await refresh();
    } catch (error) {
      if (error instanceof Refused) {
        signOut(
          error.status === 403
            ? "This credential lacks the operator scope."
            : "The gateway refused this credential.",
        );
        return;
      }
      failed(panel === "store" ? "store-orders" : panel, error);
    }
  }

  let timer = null;

  async function refreshAll() {
    await Promise.allSettled([
      guarded("erp-summary", refreshErpQueue),
      guarded("lag", refreshKpis),
      guarded("reconciliation", refreshReconciliation),
      guarded("promotions", refreshPromotions),
    ]);
    document.getElementById("updated").textContent = "updated " + new Date().toLocaleTimeString();
  }

  function signedIn() {
    document.getElementById("signin").hidden = true;
    document.getElementById("panels").hidden = false;
    document.getElementById("signout").hidden = false;
    refreshAll();
    guarded("store", loadStores);
    timer = setInterval(refreshAll, REFRESH_MS);
  }

  function signOut(reason) {
    credential.clear();
    clearInterval(timer);
    if (store.socket) store.socket.close();
    store.socket = null;
    document.getElementById("signin").hidden = false;
    document.getElementById("panels").hidden = true;
    document.getElementById("signout").hidden = true;
    document.getElementById("signin-reason").textContent = reason || "";
  }

  function layout() {
    const section = (id, title, ...body) =>
      el("section", { id: `${id}-panel` }, el("h2", {}, title), ...body);
    document.body.append(
      el(
        "header",
        {},
        el("h1", {}, "RetailGraph console"),
        el("span", { id: "updated", class: "muted" }),
        el("button", { id: "signout", hidden: "", onclick: () => signOut() }, "Sign out"),
      ),
      el("p", { id: "flash", class: "note" }),
      el(
        "form",
        { id: "signin", onsubmit: onSignIn },
        el("h2", {}, "Sign in"),
        el(
          "p",
          {},
          "Everything here needs the operator scope. Give an operator's API key or token; ",
          "it is kept for this tab only.",
        ),
        el("p", { id: "signin-reason", class: "error" }),
        el(
          "label",
          {},
          "Credential ",
          el("input", { id: "credential", type: "password", autocomplete: "off", required: "" }),
        ),
        el("button", { type: "submit" }, "Open the console"),
      ),
      el(
        "main",
        { id: "panels", hidden: "" },
        section(
          "erp",
          "ERP postings",
          el("p", { id: "erp-summary" }),
          el("div", { id: "backlog-plot", class: "plot" }),
          el("div", { id: "erp-kinds" }),
          el("h3", {}, "Dead letters"),
          el("div", { id: "dead-letters" }),
        ),
        section(
          "events",
          "Events",
          el("h3", {}, "Lag per consumer, last hour"),
          el("div", { id: "lag-plot", class: "plot" }),
          el("div", { id: "lag" }),
          el("h3", {}, "Outbox depth"),
          el("div", { id: "outbox" }),
          el("div", { id: "kpi-sources" }),
        ),
        section(
          "store",
          "Store",
          el(
            "p",
            {},
            el("label", {}, "Store ", el("select", { id: "store-select", onchange: onStore })),
            " ",
            el("span", { id: "store-connection", class: "badge" }, "offline"),
          ),
          el(
            "div",
            { class: "columns" },
            el("div", {}, el("h3", {}, "Pickup orders"), el("div", { id: "store-orders" })),
            el("div", {}, el("h3", {}, "Stock"), el("div", { id: "store-stock" })),
          ),
        ),
        section("promotions", "Promotions", el("div", { id: "promotions" })),
        section("reconciliation", "Last reconciliation", el("div", { id: "reconciliation" })),
      ),
    );
  }

  function onSignIn(event) {
    event.preventDefault();
    const input = document.getElementById("credential");
    credential.set(input.value.trim());
    input.value = "";
    signedIn();
  }

  function onStore(event) {
    sessionStorage.setItem("retailgraph.console.store", event.target.value);
    watchStore(event.target.value);
  }

  window.retailgraphConsole = { socket: null };
  layout();
  if (credential.get()) signedIn();
})();
