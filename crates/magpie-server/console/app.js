// The Magpie web console: Preact + htm (no build step), uPlot for charts.
// Every call goes to the admin listener it was served from: /console/api for
// the console's own routes, /console/api/app/... for the admin API's routes
// of one app (X-Magpie-App), /metrics for the charts.
import { h, render } from "./preact.module.js";
import { useState, useEffect, useRef, useCallback } from "./hooks.module.js";
import htm from "./htm.module.js";
import uPlot from "./uPlot.esm.js";

const html = htm.bind(h);

async function call(method, path, body, app, form) {
  const headers = { "X-Magpie-Console": "1" };
  if (app) headers["X-Magpie-App"] = app;
  let payload;
  if (form) {
    headers["Content-Type"] = "application/x-www-form-urlencoded;charset=utf-8";
    payload = new URLSearchParams(form).toString();
  } else if (body !== undefined) {
    headers["Content-Type"] = "application/json";
    payload = JSON.stringify(body);
  }
  const r = await fetch(path, { method, headers, body: payload, credentials: "same-origin" });
  let v;
  try { v = await r.json(); } catch (_) { v = { code: r.status, msg: r.statusText }; }
  if (v.code !== 200) throw new Error(`${v.code}: ${v.msg || v.desc || "refused"}`);
  return v;
}
const appCall = (app, method, path, body) => call(method, `/console/api/app${path}`, body, app);
const appForm = (app, path, form) => call("POST", `/console/api/app${path}`, undefined, app, form);

function SignIn({ onIn }) {
  const [name, setName] = useState("");
  const [password, setPassword] = useState("");
  const [error, setError] = useState("");
  const submit = async (e) => {
    e.preventDefault();
    try {
      await call("POST", "/console/api/session", { name, password });
      onIn(name);
    } catch (err) { setError(err.message); setPassword(""); }
  };
  return html`<form class="signin" onSubmit=${submit}>
    <section>
      <h2>Magpie console</h2>
      <label>Operator<input id="name" autocomplete="username" value=${name} onInput=${(e) => setName(e.target.value)} /></label>
      <label>Password<input id="password" type="password" autocomplete="current-password" value=${password} onInput=${(e) => setPassword(e.target.value)} /></label>
      <button id="sign-in" type="submit">Sign in</button>
      ${error && html`<p id="error" class="error">${error}</p>`}
      <p class="note">Operators are created on the server: <span class="mono">magpie operator create NAME</span></p>
    </section>
  </form>`;
}

// Prometheus text: the samples of one metric, as [{labels, value}].
function samples(text, metric) {
  const out = [];
  for (const line of text.split("\n")) {
    if (!line.startsWith(metric)) continue;
    const m = line.match(/^([a-z_]+)(\{([^}]*)\})? ([0-9.eE+-]+)/);
    if (!m || m[1] !== metric) continue;
    const labels = {};
    (m[3] || "").replace(/([a-z_]+)="([^"]*)"/g, (_, k, v) => { labels[k] = v; });
    out.push({ labels, value: Number(m[4]) });
  }
  return out;
}

function Chart({ title, series, data, id }) {
  const el = useRef(null);
  const plot = useRef(null);
  useEffect(() => {
    if (!el.current) return;
    plot.current?.destroy();
    plot.current = new uPlot({
      title, width: 1000, height: 180,
      series: [{}, ...series.map((s, i) => ({ label: s, stroke: ["#2f6fde", "#c93c3c", "#e09b1b", "#2a9d63", "#7a4fd6"][i % 5], width: 2 }))],
      axes: [{}, { size: 60 }],
    }, data, el.current);
    return () => plot.current?.destroy();
  }, [series.join(",")]);
  useEffect(() => { plot.current?.setData(data); }, [data]);
  return html`<div id=${id} ref=${el}></div>`;
}

const HISTORY = 60;

// Polls /metrics every second while signed in, so the dashboard shows the
// last minute whichever page was open.
function useMetrics() {
  const [hist, setHist] = useState({ t: [], ok: [], refused: [], sessions: [], codes: {} });
  const [now, setNow] = useState({ sessions: 0, connections: 0, logins: 0 });
  const prev = useRef(null);
  useEffect(() => {
    let stop = false;
    const tick = async () => {
      try {
        const text = await (await fetch("/metrics", { credentials: "same-origin" })).text();
        const logins = samples(text, "magpie_logins_total");
        const byCode = {};
        for (const s of logins) byCode[s.labels.code] = (byCode[s.labels.code] || 0) + s.value;
        const sessions = samples(text, "magpie_sessions").reduce((a, s) => a + s.value, 0);
        const connections = samples(text, "magpie_connections").reduce((a, s) => a + s.value, 0);
        const total = Object.values(byCode).reduce((a, v) => a + v, 0);
        const t = Date.now() / 1000;
        setNow({ sessions, connections, logins: total });
        const p = prev.current;
        prev.current = { t, byCode };
        if (!p) return;
        const dt = Math.max(t - p.t, 0.001);
        const rate = (c) => Math.max(((byCode[c] || 0) - (p.byCode[c] || 0)) / dt, 0);
        setHist((h) => {
          const keep = (a, v) => [...a, v].slice(-HISTORY);
          const codes = { ...h.codes };
          for (const c of Object.keys(byCode)) if (c !== "200" && !codes[c]) codes[c] = new Array(h.t.length).fill(0);
          for (const c of Object.keys(codes)) codes[c] = keep(codes[c], rate(c));
          const refused = Object.keys(byCode).filter((c) => c !== "200").reduce((a, c) => a + rate(c), 0);
          return { t: keep(h.t, t), ok: keep(h.ok, rate("200")), refused: keep(h.refused, refused), sessions: keep(h.sessions, sessions), codes };
        });
      } catch (_) { /* the next tick retries */ }
    };
    tick();
    const id = setInterval(() => { if (!stop) tick(); }, 1000);
    return () => { stop = true; clearInterval(id); };
  }, []);
  return { hist, now };
}

function Dashboard({ metrics }) {
  const { hist, now } = metrics;
  const codes = Object.keys(hist.codes).sort();
  return html`<section>
    <h2>Live</h2>
    <div class="stats">
      <div class="stat">Sessions<b id="stat-sessions">${now.sessions}</b></div>
      <div class="stat">Connections<b id="stat-connections">${now.connections}</b></div>
      <div class="stat">Logins answered<b id="stat-logins">${now.logins}</b></div>
    </div>
    <div class="charts">
      <${Chart} id="chart-logins" title="Logins per second" series=${["logged in", "refused"]} data=${[hist.t, hist.ok, hist.refused]} />
      <${Chart} id="chart-sessions" title="Sessions" series=${["sessions"]} data=${[hist.t, hist.sessions]} />
      <${Chart} id="chart-refusals" title="Refusals per second by code" series=${codes.length ? codes : ["none"]}
        data=${[hist.t, ...(codes.length ? codes.map((c) => hist.codes[c]) : [hist.t.map(() => 0)])]} />
    </div>
  </section>`;
}

function Apps({ app, setApp }) {
  const [apps, setApps] = useState([]);
  const [name, setName] = useState("");
  const [secret, setSecret] = useState(null);
  const [error, setError] = useState("");
  const load = useCallback(async () => {
    try { setApps((await call("GET", "/console/api/apps")).data.apps); } catch (e) { setError(e.message); }
  }, []);
  useEffect(() => { load(); }, []);
  const create = async (e) => {
    e.preventDefault();
    try {
      const v = (await call("POST", "/console/api/apps", { name })).data;
      setSecret(v); setName(""); setApp(v.app_key); load();
    } catch (err) { setError(err.message); }
  };
  return html`<section>
    <h2>Apps</h2>
    <table><thead><tr><th>Name</th><th>App key</th><th>Created</th></tr></thead>
      <tbody>${apps.map((a) => html`<tr key=${a.app_key} data-app-key=${a.app_key} class=${a.app_key === app ? "selected" : ""}>
        <td><button class="plain select-app" onClick=${() => setApp(a.app_key)}>${a.name}</button></td>
        <td class="mono">${a.app_key}</td><td>${new Date(a.created_at).toISOString()}</td></tr>`)}</tbody></table>
    <form class="row" onSubmit=${create}>
      <input id="app-name" placeholder="new app name" value=${name} onInput=${(e) => setName(e.target.value)} />
      <button id="create-app" type="submit">Create app</button>
    </form>
    ${secret && html`<p class="secret" id="new-secret">App key <b id="new-app-key">${secret.app_key}</b>, secret <b>${secret.app_secret}</b>: copy the secret now, it is not shown again.</p>`}
    ${error && html`<p class="error">${error}</p>`}
  </section>
  ${app && html`<${AppSettings} app=${app} />`}`;
}

function AppSettings({ app }) {
  const [policy, setPolicy] = useState("all");
  const [auth, setAuth] = useState({ auth_types: [0, 1], callback: null });
  const [cbUrl, setCbUrl] = useState("");
  const [hook, setHook] = useState("");
  const [msg, setMsg] = useState("");
  const [secret, setSecret] = useState("");
  useEffect(() => {
    (async () => {
      try {
        const p = (await appCall(app, "GET", "/magpie/v1/app/device_policy")).data.policy;
        setPolicy(p.mode);
        const a = (await appCall(app, "GET", "/magpie/v1/app/login_auth")).data.login_auth;
        setAuth(a); setCbUrl(a.callback ? a.callback.url : "");
        const w = (await appCall(app, "GET", "/magpie/v1/app/webhook")).data.webhook;
        setHook(w ? w.url : "");
        setMsg("");
      } catch (e) { setMsg(e.message); }
    })();
  }, [app]);
  const done = (what) => setMsg(`${what} saved`);
  const fail = (e) => setMsg(e.message);
  const savePolicy = () => appCall(app, "PUT", "/magpie/v1/app/device_policy", { mode: policy }).then(() => done("policy"), fail);
  const toggle = (t) => setAuth({ ...auth, auth_types: auth.auth_types.includes(t) ? auth.auth_types.filter((x) => x !== t) : [...auth.auth_types, t].sort() });
  const saveAuth = () => appCall(app, "PUT", "/magpie/v1/app/login_auth", { auth_types: auth.auth_types, callback: cbUrl ? { ...(auth.callback || {}), url: cbUrl } : null }).then(() => done("login settings"), fail);
  const saveHook = () => (hook ? appCall(app, "PUT", "/magpie/v1/app/webhook", { url: hook }) : appCall(app, "DELETE", "/magpie/v1/app/webhook")).then(() => done("webhook"), fail);
  const rotate = async () => {
    try { setSecret((await call("POST", `/console/api/apps/${app}/rotate-secret`)).data.app_secret); } catch (e) { fail(e); }
  };
  return html`<section>
    <h2>Settings of <span class="mono" id="current-app">${app}</span></h2>
    <div class="row">Multi-device policy
      <select id="policy-mode" value=${policy} onChange=${(e) => setPolicy(e.target.value)}>
        ${["single", "desktop_mobile", "all"].map((m) => html`<option value=${m}>${m}</option>`)}
        ${policy === "custom" && html`<option value="custom">custom (set through the admin API)</option>`}
      </select>
      <button id="save-policy" onClick=${savePolicy}>Save</button></div>
    <div class="row">Auth types
      ${[0, 1, 2].map((t) => html`<label><input type="checkbox" id=${`auth-${t}`} checked=${auth.auth_types.includes(t)} onChange=${() => toggle(t)} /> ${["static token", "dynamic token", "login callback"][t]}</label>`)}
      <input id="callback-url" placeholder="login callback URL" value=${cbUrl} onInput=${(e) => setCbUrl(e.target.value)} size="40" />
      <button id="save-auth" onClick=${saveAuth}>Save</button></div>
    <div class="row">Event webhook
      <input id="webhook-url" placeholder="https://app.example.com/im-events" value=${hook} onInput=${(e) => setHook(e.target.value)} size="40" />
      <button id="save-webhook" onClick=${saveHook}>Save</button></div>
    <div class="row"><button class="danger" id="rotate-secret" onClick=${rotate}>Rotate secret</button>
      ${secret && html`<span class="secret" id="rotated-secret">${secret}</span>`}</div>
    ${msg && html`<p class="note" id="settings-msg">${msg}</p>`}
  </section>`;
}

function Accounts({ app }) {
  const [prefix, setPrefix] = useState("");
  const [list, setList] = useState([]);
  const [accid, setAccid] = useState("");
  const [token, setToken] = useState("");
  const [msg, setMsg] = useState("");
  const [devicesOf, setDevicesOf] = useState(null);
  const search = useCallback(async () => {
    try { setList((await appCall(app, "GET", `/magpie/v1/accounts?limit=50&prefix=${encodeURIComponent(prefix)}`)).data.accounts); } catch (e) { setMsg(e.message); }
  }, [app, prefix]);
  useEffect(() => { search(); }, [app]);
  if (!app) return html`<section><p class="note">Choose an app on the Apps page first.</p></section>`;
  const create = async (e) => {
    e.preventDefault();
    try {
      const v = await appCall(app, "POST", "/im/v2/accounts", token ? { account_id: accid, token } : { account_id: accid });
      setMsg(`created ${accid}, token ${v.data.token}`); setAccid(""); setToken(""); search();
    } catch (err) { setMsg(err.message); }
  };
  const block = async (a, blocked) => {
    try {
      await appForm(app, blocked ? "/nimserver/user/block.action" : "/nimserver/user/unblock.action", blocked ? { accid: a, needkick: "true" } : { accid: a });
      setMsg(`${a} ${blocked ? "blocked" : "unblocked"}`); search();
    } catch (e) { setMsg(e.message); }
  };
  const refresh = async (a) => {
    try { setMsg(`new token of ${a}: ${(await appForm(app, "/nimserver/user/refreshToken.action", { accid: a })).info.token}`); } catch (e) { setMsg(e.message); }
  };
  return html`<section>
    <h2>Accounts</h2>
    <div class="row"><input id="search" placeholder="account id starts with" value=${prefix} onInput=${(e) => setPrefix(e.target.value)} />
      <button id="search-button" onClick=${search}>Search</button></div>
    <table><thead><tr><th>Account</th><th>Name</th><th>State</th><th></th></tr></thead>
      <tbody>${list.map((a) => html`<tr key=${a.account_id} data-accid=${a.account_id}>
        <td class="mono">${a.account_id}</td><td>${a.name}</td><td>${a.blocked ? "blocked" : "active"}</td>
        <td class="row">
          <button class="plain devices" onClick=${() => setDevicesOf(a.account_id)}>Devices</button>
          <button class="plain" onClick=${() => refresh(a.account_id)}>Refresh token</button>
          ${a.blocked ? html`<button class="plain unblock" onClick=${() => block(a.account_id, false)}>Unblock</button>`
                      : html`<button class="danger block" onClick=${() => block(a.account_id, true)}>Block</button>`}
        </td></tr>`)}</tbody></table>
    <form class="row" onSubmit=${create}>
      <input id="new-accid" placeholder="new account id" value=${accid} onInput=${(e) => setAccid(e.target.value)} />
      <input id="new-token" placeholder="token (empty: generated)" value=${token} onInput=${(e) => setToken(e.target.value)} />
      <button id="create-account" type="submit">Create account</button>
    </form>
    ${msg && html`<p class="note" id="accounts-msg">${msg}</p>`}
  </section>
  ${devicesOf && html`<${Devices} app=${app} accid=${devicesOf} />`}`;
}

const CLIENT_TYPES = { 1: "Android", 2: "iOS", 4: "PC", 16: "Web", 32: "REST", 64: "macOS", 65: "HarmonyOS" };

function Devices({ app, accid }) {
  const [devices, setDevices] = useState([]);
  const [msg, setMsg] = useState("");
  const load = useCallback(async () => {
    try { setDevices((await appCall(app, "GET", `/magpie/v1/accounts/${encodeURIComponent(accid)}/online`)).data.clients); } catch (e) { setMsg(e.message); }
  }, [app, accid]);
  useEffect(() => {
    load();
    const id = setInterval(load, 1000);
    return () => clearInterval(id);
  }, [app, accid]);
  const kick = async (d) => {
    try {
      await appCall(app, "POST", `/im/v2/accounts/${encodeURIComponent(accid)}/actions/kick`, { type: 2, device_id_list: [d] });
      setMsg(`kicked ${d}`); load();
    } catch (e) { setMsg(e.message); }
  };
  return html`<section id="devices">
    <h2>Online devices of <span class="mono">${accid}</span></h2>
    ${devices.length === 0 && html`<p class="note" id="no-devices">No device online.</p>`}
    <table><thead><tr><th>Device</th><th>Client type</th><th>OS</th><th>Since</th><th></th></tr></thead>
      <tbody>${devices.map((d) => html`<tr key=${d.device_id} data-device-id=${d.device_id}>
        <td class="mono">${d.device_id}</td><td>${CLIENT_TYPES[d.client_type] || d.client_type}</td><td>${d.client_os}</td>
        <td>${new Date(d.login_time).toISOString()}</td>
        <td><button class="danger kick" onClick=${() => kick(d.device_id)}>Kick</button></td></tr>`)}</tbody></table>
    ${msg && html`<p class="note" id="devices-msg">${msg}</p>`}
  </section>`;
}

function Console() {
  const [who, setWho] = useState(undefined);
  const [page, setPage] = useState("dashboard");
  const [app, setApp] = useState(null);
  const metrics = useMetrics();
  useEffect(() => {
    call("GET", "/console/api/session").then((v) => setWho(v.data.operator), () => setWho(null));
  }, []);
  if (who === undefined) return html`<p class="note">…</p>`;
  if (!who) return html`<${SignIn} onIn=${setWho} />`;
  const out = async () => { try { await call("DELETE", "/console/api/session"); } finally { setWho(null); } };
  const nav = (p, label) => html`<button id=${`nav-${p}`} class=${page === p ? "on" : ""} onClick=${() => setPage(p)}>${label}</button>`;
  return html`<header><h1>Magpie</h1><nav>${nav("dashboard", "Dashboard")}${nav("apps", "Apps")}${nav("accounts", "Accounts")}</nav>
      <span class="who">signed in as <b id="operator">${who}</b></span><button class="plain" id="sign-out" onClick=${out}>Sign out</button></header>
    <main>
      ${page === "dashboard" && html`<${Dashboard} metrics=${metrics} />`}
      ${page === "apps" && html`<${Apps} app=${app} setApp=${setApp} />`}
      ${page === "accounts" && html`<${Accounts} app=${app} />`}
    </main>`;
}

render(html`<${Console} />`, document.getElementById("root"));
