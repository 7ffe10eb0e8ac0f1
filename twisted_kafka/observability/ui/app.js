// The twisted-kafka web UI: a page per hash route, drawn from /api/ with
// textContent only (client strings never become markup).
"use strict";

const PAGE_SIZE = 50;
const page = document.getElementById("page");
const vhostSelect = document.getElementById("vhost");

function el(tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (key === "text") node.textContent = value;
    else if (key === "onclick" || key === "onchange" || key === "oninput") node[key] = value;
    else node.setAttribute(key, value);
  }
  for (const child of children) node.append(child);
  return node;
}

async function api(path, options) {
  const response = await fetch("/api/" + path, options);
  const body = await response.json();
  if (!response.ok) throw new Error(body.error + ": " + body.message);
  return body;
}

function vhost() { return vhostSelect.value || "/"; }
function v() { return encodeURIComponent(vhost()); }
function num(n) { return el("td", {class: "num", text: String(n)}); }
function bytes(n) {
  const units = ["B", "KiB", "MiB", "GiB", "TiB"];
  let i = 0;
  while (n >= 1024 && i < units.length - 1) { n /= 1024; i++; }
  return el("td", {class: "num", text: (i ? n.toFixed(1) : String(n)) + " " + units[i]});
}

function table(id, headings, rows) {
  return el("table", {id: id},
    el("thead", {}, el("tr", {}, ...headings.map(h => el("th", {text: h})))),
    el("tbody", {}, ...rows));
}

function shown(value) {
  if (value === null) return el("span", {class: "value", text: "null"});
  if ("text" in value) return el("span", {class: "value", text: value.text});
  return el("span", {class: "value binary", title: "base64", text: "base64:" + value.base64});
}

function link(href, text) { return el("a", {href: href, text: text}); }

async function overview() {
  const o = await api("overview");
  const t = o.totals;
  return [el("h1", {text: "Overview"}),
    el("dl", {id: "overview"},
      el("dt", {text: "Version"}), el("dd", {text: o.version}),
      el("dt", {text: "Node"}), el("dd", {text: String(o.node_id)}),
      el("dt", {text: "Cluster"}), el("dd", {text: o.cluster_id}),
      el("dt", {text: "Uptime"}), el("dd", {text: Math.round(o.uptime_seconds) + " s"}),
      el("dt", {text: "Ready"}), el("dd", {text: o.ready ? "yes" : "no"}),
      el("dt", {text: "Topics"}), el("dd", {id: "total-topics", text: String(t.topics)}),
      el("dt", {text: "Partitions"}), el("dd", {text: String(t.partitions)}),
      el("dt", {text: "Size"}), el("dd", {text: String(t.size_bytes) + " bytes"}),
      el("dt", {text: "Groups"}), el("dd", {text: String(t.groups)}),
      el("dt", {text: "Connections"}), el("dd", {text: String(t.connections)})),
    table("listeners", ["Listener", "Listening"],
      o.listeners.map(l => el("tr", {}, el("td", {text: l.listener}), el("td", {text: l.listening ? "yes" : "no"}))))];
}

async function topics(params) {
  const match = params.get("match") || "";
  const offset = Number(params.get("offset") || 0);
  const internal = params.get("internal") === "1";
  const body = await api(`vhosts/${v()}/topics?match=${encodeURIComponent(match)}&offset=${offset}` +
                         `&limit=${PAGE_SIZE}&internal=${internal ? 1 : 0}`);
  const go = (o, m, i) => { location.hash = `#/topics?match=${encodeURIComponent(m)}&offset=${o}&internal=${i ? 1 : 0}`; };
  const filter = el("input", {id: "filter", placeholder: "filter by name", value: match});
  filter.onchange = () => go(0, filter.value, internal);
  const showInternal = el("input", {type: "checkbox", id: "internal"});
  showInternal.checked = internal;
  showInternal.onchange = () => go(0, filter.value, showInternal.checked);
  const last = Math.min(offset + PAGE_SIZE, body.total);
  const controls = el("div", {class: "controls"}, filter,
    el("label", {}, showInternal, " internal"),
    el("button", {id: "previous", text: "‹ previous", onclick: () => go(Math.max(offset - PAGE_SIZE, 0), match, internal)}),
    el("span", {id: "page-info", text: `${body.total ? offset + 1 : 0}–${last} of ${body.total}`}),
    el("button", {id: "next", text: "next ›", onclick: () => go(offset + PAGE_SIZE, match, internal)}));
  if (offset === 0) controls.querySelector("#previous").disabled = true;
  if (last >= body.total) controls.querySelector("#next").disabled = true;
  const rows = body.topics.map(t => el("tr", {"data-topic": t.name},
    el("td", {}, link(`#/topic/${encodeURIComponent(t.name)}`, t.name)),
    num(t.partitions), num(t.records), num(t.end_offsets), bytes(t.size_bytes)));
  return [el("h1", {text: "Topics"}), controls,
    table("topics", ["Topic", "Partitions", "Records", "End offsets", "Size"], rows)];
}

async function topic(name, params) {
  const t = await api(`vhosts/${v()}/topics/${encodeURIComponent(name)}`);
  const partition = Number(params.get("partition") || 0);
  const from = params.get("offset") || "";
  const parts = table("partitions", ["Partition", "Log start", "Log end", "Size"],
    t.partitions.map(p => el("tr", {"data-partition": String(p.partition)}, num(p.partition),
      num(p.log_start_offset), num(p.log_end_offset), bytes(p.size_bytes))));
  const configs = table("configs", ["Config", "Value", "Source"],
    t.configs.map(c => el("tr", {}, el("td", {text: c.name}), el("td", {text: c.value}), el("td", {text: c.source}))));
  const select = el("select", {id: "record-partition"},
    ...t.partitions.map(p => el("option", {value: String(p.partition), text: "partition " + p.partition})));
  select.value = String(partition);
  const offsetInput = el("input", {id: "record-offset", placeholder: "from offset", value: from});
  const show = () => { location.hash = `#/topic/${encodeURIComponent(name)}?partition=${select.value}&offset=${encodeURIComponent(offsetInput.value)}`; };
  const peek = await api(`vhosts/${v()}/topics/${encodeURIComponent(name)}/partitions/${partition}/records` +
                         `?limit=50${from === "" ? "" : "&offset=" + encodeURIComponent(from)}`);
  const records = table("records", ["Offset", "Timestamp", "Key", "Value", "Headers"],
    peek.records.map(r => el("tr", {},
      num(r.offset), el("td", {text: new Date(r.timestamp).toISOString()}),
      el("td", {}, shown(r.key)), el("td", {}, shown(r.value)),
      el("td", {}, ...r.headers.map(h => el("div", {}, shown(h.key), " = ", shown(h.value)))))));
  return [el("h1", {id: "topic-name", text: t.name}), parts, el("h2", {text: "Configs"}), configs,
    el("h2", {text: "Records"}),
    el("div", {class: "controls"}, select, offsetInput, el("button", {text: "show", onclick: show})),
    records];
}

async function groups() {
  const body = await api(`vhosts/${v()}/groups`);
  return [el("h1", {text: "Consumer groups"}),
    table("groups", ["Group", "State", "Members", "Partitions", "Lag"],
      body.groups.map(g => el("tr", {"data-group": g.group},
        el("td", {}, link(`#/group/${encodeURIComponent(g.group)}`, g.group)),
        el("td", {text: g.state}), num(g.members), num(g.partitions), el("td", {class: "num lag", text: String(g.lag)}))))];
}

async function group(id) {
  const g = await api(`vhosts/${v()}/groups/${encodeURIComponent(id)}`);
  return [el("h1", {text: g.group}),
    el("p", {text: `${g.state}, generation ${g.generation}, protocol ${g.protocol || "none"}, lag ${g.lag}`}),
    table("members", ["Member", "Client", "Host", "Assignment"],
      g.members_detail.map(m => el("tr", {}, el("td", {text: m.member_id}), el("td", {text: m.client_id}),
        el("td", {text: m.client_host}),
        el("td", {text: m.assignment.map(a => a.topic + " " + a.partitions.join(",")).join("; ")})))),
    table("offsets", ["Topic", "Partition", "Committed", "End", "Lag"],
      g.offsets.map(o => el("tr", {"data-partition": o.topic + "-" + o.partition},
        el("td", {text: o.topic}), num(o.partition), num(o.committed), num(o.end),
        el("td", {class: "num lag", text: String(o.lag)}))))];
}

async function connections() {
  const body = await api("connections");
  return [el("h1", {text: "Connections"}),
    table("connections", ["Peer", "Listener", "Client id", "Software", "User", "Vhost", "Bytes in", "Bytes out"],
      body.map(c => el("tr", {}, el("td", {text: c.peer}), el("td", {text: c.listener}),
        el("td", {text: c.client_id || ""}),
        el("td", {text: c.client_software_name ? c.client_software_name + " " + c.client_software_version : ""}),
        el("td", {text: c.user}), el("td", {text: c.vhost || ""}), num(c.bytes_in), num(c.bytes_out))))];
}

async function route() {
  const [path, query] = (location.hash.slice(1) || "/overview").split("?");
  const params = new URLSearchParams(query || "");
  const parts = path.split("/").filter(Boolean).map(decodeURIComponent);
  for (const a of document.querySelectorAll("header nav a")) {
    a.classList.toggle("current", a.getAttribute("href").slice(2) === (parts[0] === "topic" ? "topics" : parts[0] === "group" ? "groups" : parts[0]));
  }
  const views = {overview, topics: () => topics(params), topic: () => topic(parts[1], params),
                 groups, group: () => group(parts[1]), connections};
  const view = views[parts[0]] || overview;
  try {
    const content = await view();
    page.replaceChildren(...content);
  } catch (error) {
    page.replaceChildren(el("p", {class: "error", text: String(error.message || error)}));
  }
  document.body.setAttribute("data-loaded", parts[0] || "overview");
}

async function start() {
  const wanted = new URLSearchParams(location.search).get("vhost") || "/";
  const vhosts = await api("vhosts");
  vhostSelect.replaceChildren(...vhosts.map(vh => el("option", {value: vh.name, text: vh.name})));
  vhostSelect.value = vhosts.some(vh => vh.name === wanted) ? wanted : (vhosts[0] ? vhosts[0].name : "/");
  vhostSelect.onchange = route;
  window.addEventListener("hashchange", route);
  await route();
}

start();
