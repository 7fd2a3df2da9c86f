'use strict';
// voxgate operator dashboard. Plain ES2020 with no dependencies: the gateway embeds and
// serves this file itself, so the page works offline and needs no build step. It talks
// to the admin API on the same origin; every element is built with the DOM API (never
// innerHTML) because call transcripts and plugin results are caller-controlled text.

// API paths are relative to the page, so the dashboard also works behind a path prefix.
const BASE = location.pathname.replace(/[^/]*$/, '');
const TOKEN_KEY = 'voxgate.token';
const TENANT_KEY = 'voxgate.tenant';
const SECTIONS = ['live', 'calls', 'kpis', 'plugins'];
const RECENT_MAX = 15;
// Outcome -> [badge colour, short label for narrow tables].
const OUTCOMES = {
  completed: ['good', 'completed'], transferred: ['info', 'transferred'],
  'caller-hung-up': ['warn', 'hung up'], 'escalated-after-error': ['bad', 'escalated'],
};

const state = {
  token: sessionStorage.getItem(TOKEN_KEY) || '',
  me: null, tenants: [], tenant: '', section: '',
  live: new Map(), // call_id -> live call (with its table row)
  ended: new Set(), // calls seen ending: a late resync must not bring them back
  recent: [],
  ws: null, wsRetry: 0, wsTimer: 0,
  seq: {}, // per-view request counters, so a slow answer for an older view is dropped
  timers: {}, blobUrl: '',
};

// ---------------------------------------------------------------- DOM helpers

/** Builds an element: props are attributes, `class`, `dataset` or `on<event>` handlers. */
function h(tag, props, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(props || {})) {
    if (value == null || value === false) continue;
    if (key === 'class') el.className = value;
    else if (key === 'dataset') Object.assign(el.dataset, value);
    else if (key.startsWith('on')) el.addEventListener(key.slice(2), value);
    else el.setAttribute(key, value === true ? '' : String(value));
  }
  appendAll(el, children);
  return el;
}

/** Same for SVG elements (attributes only). */
function s(tag, attrs, ...children) {
  const el = document.createElementNS('http://www.w3.org/2000/svg', tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value != null) el.setAttribute(key, String(value));
  }
  appendAll(el, children);
  return el;
}

function appendAll(el, children) {
  for (const child of children.flat(Infinity)) {
    if (child == null || child === false || child === '') continue;
    el.append(child instanceof Node ? child : String(child));
  }
}

function replace(el, ...children) {
  el.replaceChildren();
  appendAll(el, children);
}

const $ = (selector, root = document) => root.querySelector(selector);
const enc = encodeURIComponent;

// ---------------------------------------------------------------- formatting

const dateTimeFormat = new Intl.DateTimeFormat(undefined, { dateStyle: 'short', timeStyle: 'medium' });
const timeFormat = new Intl.DateTimeFormat(undefined, { timeStyle: 'medium' });
const dayFormat = new Intl.DateTimeFormat(undefined, { month: 'short', day: 'numeric' });
const hourFormat = new Intl.DateTimeFormat(undefined, { hour: 'numeric' });
const shortFormat = new Intl.DateTimeFormat(undefined, { month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit' });

function fmtTime(iso, format = dateTimeFormat) {
  if (!iso) return '—';
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? String(iso) : format.format(date);
}

function fmtDuration(ms) {
  if (ms == null || Number.isNaN(ms)) return '—';
  const total = Math.max(0, Math.round(ms / 1000));
  const pad = (n) => String(n).padStart(2, '0');
  const hours = Math.floor(total / 3600);
  const minutes = Math.floor((total % 3600) / 60);
  return hours ? `${hours}:${pad(minutes)}:${pad(total % 60)}` : `${minutes}:${pad(total % 60)}`;
}

/** Plugin timings arrive in microseconds; operators read milliseconds. */
const fmtUs = (us) => (us == null ? '—' : (us / 1000).toFixed(2));
const fmtPercent = (ratio) => (ratio == null ? '—' : `${(ratio * 100).toFixed(1)} %`);

function fmtBytes(n) {
  if (n == null) return '—';
  return n < 1024 ? `${n} B` : n < 1048576 ? `${(n / 1024).toFixed(1)} KiB` : `${(n / 1048576).toFixed(2)} MiB`;
}

/** Call events carry SIP URIs ("Name" <sip:+385…@host>); the number part is what people read. */
function shortNumber(uri) {
  if (!uri) return '—';
  return String(uri).replace(/^[^<]*</, '').replace(/>.*$/, '').replace(/^sips?:/, '')
    .replace(/[@;].*$/, '') || String(uri);
}

/** RFC 3339 without milliseconds: every server-side parser takes that. */
const isoSeconds = (date) => date.toISOString().replace(/\.\d{3}Z$/, 'Z');

function badge(text, kind = '') {
  return h('span', { class: `badge ${kind}` }, text);
}

function outcomeBadge(call) {
  if (call.status === 'active') return badge('live', 'live');
  const [kind, label] = OUTCOMES[call.outcome] || ['', call.outcome || '—'];
  const el = badge(label, kind);
  el.title = call.outcome || '';
  return el;
}

// ---------------------------------------------------------------- API access

class ApiError extends Error {
  constructor(status, code, message) {
    super(message);
    Object.assign(this, { status, code });
  }
}

/** Calls the admin API; throws ApiError with the server's message. A 401 logs out. */
async function api(path, { method = 'GET', raw = false } = {}) {
  const headers = { Authorization: `Bearer ${state.token}` };
  let res;
  try {
    res = await fetch(BASE + path, { method, headers, cache: 'no-store' });
  } catch (err) {
    throw new ApiError(0, 'network', `The gateway is unreachable (${err.message}).`);
  }
  if (!res.ok) {
    const err = await errorOf(res);
    if (res.status === 401) logout('token not accepted');
    throw err;
  }
  return raw ? res : res.json();
}

async function errorOf(res) {
  // Not JSON (a proxy's error page, say): the status line will do.
  const { error = {} } = await res.json().catch(() => ({}));
  return new ApiError(res.status, error.code || String(res.status), error.message || `${res.status} ${res.statusText}`.trim());
}

function query(params) {
  const text = new URLSearchParams(Object.entries(params).filter(([, v]) => v != null && v !== '')).toString();
  return text ? `?${text}` : '';
}

const tenantPath = (tenant, rest = '') => `v1/tenants/${enc(tenant)}${rest}`;

/** Starts a request for a view; `isLatest` tells whether a newer one has started since. */
function begin(view) {
  state.seq[view] = (state.seq[view] || 0) + 1;
  const seq = state.seq[view];
  return () => state.seq[view] === seq;
}

/** Fetches for a view and hands the answer on, unless a newer request for the view started. */
async function load(view, path, render, failed = report) {
  const isLatest = begin(view);
  try {
    const data = await api(path);
    if (isLatest()) render(data);
  } catch (err) {
    if (isLatest()) failed(err);
  }
}

function later(key, fn, ms) {
  clearTimeout(state.timers[key]);
  state.timers[key] = setTimeout(fn, ms);
}

// ---------------------------------------------------------------- toasts

function toast(message, kind = 'ok') {
  const el = h('div', { class: `toast ${kind}`, role: kind === 'error' ? 'alert' : 'status' }, message);
  $('#toasts').append(el);
  setTimeout(() => el.remove(), kind === 'error' ? 8000 : 4000);
}

function report(err) {
  if (err.status === 401) return; // already back at the login form, which says why
  console.warn(err);
  toast(err.message, 'error');
}

// ---------------------------------------------------------------- session

async function login(event) {
  event.preventDefault();
  const token = $('#token').value.trim();
  if (!token) return;
  state.token = token;
  sessionStorage.setItem(TOKEN_KEY, token);
  $('#login-error').textContent = '';
  await start();
}

async function start() {
  try {
    state.me = await api('v1/me');
    state.tenants = (await api('v1/tenants')).tenants || [];
  } catch (err) {
    state.me = null;
    if (err.status !== 401) showLogin(err.message);
    return;
  }
  setupHeader();
  [$('#app-view').hidden, $('#login-view').hidden] = [false, true];
  connectEvents();
  refreshAlerts();
  state.section = '';
  route();
}

function logout(message = '') {
  state.token = '';
  state.me = null;
  sessionStorage.removeItem(TOKEN_KEY);
  disconnectEvents();
  state.live.clear();
  state.ended.clear();
  state.recent = [];
  replace($('#live-rows'));
  renderRecent();
  updateLiveCount();
  showLogin(message);
}

function showLogin(message) {
  [$('#app-view').hidden, $('#login-view').hidden] = [true, false];
  $('#login-error').textContent = message || '';
  $('#token').value = '';
  $('#token').focus();
}

function setupHeader() {
  const { me, tenants } = state;
  $('#whoami').textContent = me.kind === 'operator' ? `${me.name} · operator` : `${me.name} · ${me.tenant}`;
  const select = $('#tenant');
  replace(select, tenants.map((t) => h('option', { value: t.id }, `${t.name} (${t.id})`)));
  const ids = tenants.map((t) => t.id);
  const saved = sessionStorage.getItem(TENANT_KEY);
  state.tenant = ids.includes(saved) ? saved : ids.includes(me.tenant) ? me.tenant : ids[0] || '';
  select.value = state.tenant;
  select.disabled = ids.length < 2; // a tenant token has only its own
}

function changeTenant() {
  state.tenant = $('#tenant').value;
  sessionStorage.setItem(TENANT_KEY, state.tenant);
  refreshAlerts();
  state.section = ''; // reload the visible section for the new tenant
  route();
}

// ---------------------------------------------------------------- navigation

/** Routes: #/live, #/calls, #/calls/<tenant>/<call id>, #/kpis, #/plugins. */
function parseHash() {
  const decode = (part) => {
    try {
      return decodeURIComponent(part);
    } catch (_) {
      return part; // a hand-edited hash with a stray "%"
    }
  };
  const [section, tenant = '', callId = ''] = location.hash.replace(/^#\/?/, '').split('/').map(decode);
  return { section: SECTIONS.includes(section) ? section : 'live', tenant, callId };
}

function route() {
  if (!state.me) return;
  const { section, tenant, callId } = parseHash();
  const entering = state.section !== section;
  state.section = section;
  for (const el of document.querySelectorAll('[data-section]')) el.hidden = el.dataset.section !== section;
  for (const link of document.querySelectorAll('[data-nav]')) {
    link.classList.toggle('current', link.dataset.nav === section);
  }
  if (!state.tenant) return;
  if (section === 'calls') {
    if (entering) loadCalls();
    if (callId) loadDetail(tenant, callId);
  } else if (entering && section === 'kpis') {
    loadKpis();
  } else if (entering && section === 'plugins') {
    loadPlugins();
  }
}

function openCall(tenant, callId) {
  const hash = `#/calls/${enc(tenant)}/${enc(callId)}`;
  // Same hash means no hashchange event; load again so a click always refreshes the detail.
  if (location.hash === hash) loadDetail(tenant, callId);
  else location.hash = hash;
}

// ---------------------------------------------------------------- live events

function setLive(status) {
  document.body.dataset.live = status; // tests wait for "connected"
  const el = $('#live-status');
  el.textContent = status === 'connected' ? 'live' : status;
  el.className = `live-status ${status}`;
}

function connectEvents() {
  clearTimeout(state.wsTimer);
  const proto = location.protocol === 'https:' ? 'wss:' : 'ws:';
  // Browsers cannot set headers on a WebSocket, so the token goes in the query.
  const url = `${proto}//${location.host}${BASE}v1/events?access_token=${enc(state.token)}`;
  let opened = false;
  const ws = new WebSocket(url);
  state.ws = ws;
  setLive('connecting');
  ws.onopen = () => {
    opened = true;
    state.wsRetry = 0;
    setLive('connected');
    resyncLive(); // calls may have started or ended while we were away
  };
  ws.onmessage = (message) => onEvent(parseJson(message.data));
  ws.onclose = () => {
    if (state.ws !== ws) return; // closed on purpose
    state.ws = null;
    setLive('disconnected');
    // A refused upgrade looks like any other close: ask the API whether the token
    // still works (a 401 there logs out and cancels the retry below).
    if (!opened) api('v1/me').catch(() => {});
    const delay = Math.min(30000, 1000 * 2 ** state.wsRetry++) * (0.8 + Math.random() * 0.4);
    state.wsTimer = setTimeout(connectEvents, delay);
  };
}

function disconnectEvents() {
  clearTimeout(state.wsTimer);
  const ws = state.ws;
  state.ws = null; // first, so onclose knows it was on purpose
  if (ws) ws.close();
  setLive('off');
}

const EVENT_HANDLERS = {
  'call-started': (e) => addLive({
    tenant: e.tenant, call_id: e.call_id, caller: e.from, called: e.to,
    started: Date.parse(e.at) || Date.now(),
  }),
  transcript: (e) => noteSaid(e.call_id, 'caller', e.text),
  say: (e) => noteSaid(e.call_id, 'agent', e.text),
  turn: (e) => noteSaid(e.call_id, e.who, e.text),
  'dtmf-input': (e) => noteSaid(e.call_id, 'caller', `keys ${e.digits}`),
  transfer: (e) => noteSaid(e.call_id, 'system', `transfer to ${e.target}`),
  'plugin-call': (e) => notePluginCall(e.call_id),
  'call-record': (e) => noteOutcome(e.call_id, e.record),
  'call-ended': (e) => endLive(e),
  'plugin-activated': (e) => {
    if (e.tenant === state.tenant && state.section === 'plugins') later('plugins', loadPlugins, 300);
  },
  alert: (e) => {
    if (e.tenant === state.tenant) later('alerts', refreshAlerts, 300);
  },
};

function parseJson(text) {
  try {
    return JSON.parse(text);
  } catch (_) {
    return null; // a broken message is skipped, not fatal
  }
}

function onEvent(event) {
  const handler = event && EVENT_HANDLERS[event.event];
  if (handler) handler(event); // other events are not shown here
}

function addLive(call) {
  const id = call.call_id;
  if (!id || state.ended.has(id) || state.live.has(id)) return;
  Object.assign(call, { last: null, pluginCalls: 0, seenAt: Date.now() });
  call.row = liveRow(call);
  state.live.set(id, call);
  $('#live-rows').prepend(call.row);
  updateLiveCount();
}

/** A table row that opens the call's detail (also from the keyboard). */
function callLink(c, title, ...cells) {
  const open = () => openCall(c.tenant, c.call_id);
  return h('tr', {
    // Calls answered by a plain SIP route have no tenant (null in events).
    class: 'clickable', tabindex: 0, title, dataset: { callId: c.call_id, tenant: c.tenant || '' },
    onclick: open, onkeydown: (e) => e.key === 'Enter' && open(),
  }, cells);
}

function liveRow(call) {
  return callLink(call, 'Open call detail',
  h('td', {}, call.tenant || '—'),
  h('td', { title: call.caller }, shortNumber(call.caller)),
  h('td', { title: call.called }, shortNumber(call.called)),
  h('td', { class: 'num dur' }, fmtDuration(Date.now() - call.started)),
  h('td', { class: 'num plugin-calls' }, '0'),
  h('td', { class: 'last' }, '—'));
}

function noteSaid(callId, who, text) {
  const call = state.live.get(callId);
  if (!call || !text) return;
  call.last = { who: who || 'caller', text };
  replace($('.last', call.row), h('span', { class: `who ${call.last.who}` }, call.last.who), ' ', text);
}

/** Kept for the "recently ended" row: call-ended itself does not say how it went. */
function noteOutcome(callId, record) {
  const call = state.live.get(callId);
  if (call && record) call.outcome = record.outcome;
}

function notePluginCall(callId) {
  const call = state.live.get(callId);
  if (!call) return;
  call.pluginCalls += 1;
  $('.plugin-calls', call.row).textContent = String(call.pluginCalls);
}

function endLive(event) {
  const id = event.call_id;
  state.ended.add(id);
  if (state.ended.size > 2000) state.ended.delete(state.ended.values().next().value);
  const call = state.live.get(id);
  state.live.delete(id);
  if (call) call.row.remove();
  updateLiveCount();
  state.recent.unshift({
    tenant: event.tenant, call_id: id, caller: call && call.caller, called: call && call.called,
    duration_ms: event.duration_ms, reason: event.reason, at: event.at, outcome: call && call.outcome,
  });
  state.recent.length = Math.min(state.recent.length, RECENT_MAX);
  renderRecent();
  afterCallEnded(event);
}

/** A finished call changes the call list, the KPIs and possibly the open detail. */
function afterCallEnded(event) {
  if (event.tenant !== state.tenant) return;
  // The store writes the record as the call ends; give it a moment.
  if (state.section === 'calls') later('calls', loadCalls, 800);
  if (state.section === 'kpis') later('kpis', loadKpis, 1500);
  const open = parseHash();
  if (state.section === 'calls' && open.callId === event.call_id) {
    later('detail', () => loadDetail(open.tenant, open.callId), 1000);
  }
}

function renderRecent() {
  replace($('#recent-rows'), state.recent.map((c) => callLink(c, 'Open call detail',
  h('td', {}, c.tenant || '—'),
  h('td', { title: c.caller || '' }, shortNumber(c.caller)),
  h('td', { title: c.called || '' }, shortNumber(c.called)),
  h('td', { class: 'num' }, fmtDuration(c.duration_ms)),
  h('td', {}, fmtTime(c.at, timeFormat)),
  h('td', {}, c.reason || '—'),
  h('td', {}, c.outcome ? outcomeBadge(c) : '—'))));
  $('#recent-calls').classList.toggle('has-rows', state.recent.length > 0);
}

function updateLiveCount() {
  $('#live-count').textContent = String(state.live.size);
  $('#live-calls').classList.toggle('has-rows', state.live.size > 0);
}

function tickDurations() {
  const now = Date.now();
  for (const call of state.live.values()) $('.dur', call.row).textContent = fmtDuration(now - call.started);
}

/** After (re)connecting: take the active calls from the API, drop the ones that are gone. */
function resyncLive() {
  load('live', `v1/calls${query({ status: 'active', limit: 500 })}`, ({ calls }) => {
    if (!state.me) return;
    const active = new Set(calls.map((c) => c.call_id));
    for (const [id, call] of state.live) {
      // A call whose call-started event beat the store by a few seconds is kept.
      if (!active.has(id) && Date.now() - call.seenAt > 5000) {
        call.row.remove();
        state.live.delete(id);
      }
    }
    for (const c of calls.slice().reverse()) {
      addLive({ tenant: c.tenant, call_id: c.call_id, caller: c.caller, called: c.called, started: Date.parse(c.started_at) || Date.now() });
    }
    updateLiveCount();
  }, (err) => console.warn('cannot list active calls', err)); // the event stream still works
}

// ---------------------------------------------------------------- calls list and detail

/** datetime-local values are in the browser's time zone; the API wants RFC 3339. */
function localToIso(value) {
  if (!value) return '';
  const date = new Date(value);
  return Number.isNaN(date.getTime()) ? '' : isoSeconds(date);
}

function callFilters() {
  const form = new FormData($('#call-filters'));
  const text = (name) => String(form.get(name) || '').trim();
  return {
    tenant: state.tenant, since: localToIso(text('since')), until: localToIso(text('until')),
    number: text('number'), outcome: text('outcome'), agent: text('agent'), status: text('status'), limit: 200,
  };
}

function loadCalls() {
  if (!state.tenant) return;
  const list = $('#call-list');
  list.classList.add('loading');
  load('calls', `v1/calls${query(callFilters())}`, ({ calls }) => {
    list.classList.remove('loading');
    const rows = calls.map(callRow);
    replace($('#call-rows'), rows.length ? rows : h('tr', {}, h('td', { colspan: 5, class: 'empty-cell' }, 'No calls match these filters.')));
    markSelected(parseHash().callId);
  }, (err) => {
    list.classList.remove('loading');
    report(err);
  });
}

function callRow(c) {
  return callLink(c, c.summary || '',
  h('td', { title: fmtTime(c.started_at) }, fmtTime(c.started_at, shortFormat)),
  h('td', { title: `${c.caller} → ${c.called}` }, shortNumber(c.caller),
    h('div', { class: 'muted small' }, `to ${shortNumber(c.called)}`)),
  h('td', { class: 'num' }, c.status === 'active' ? '…' : fmtDuration(c.duration_ms)),
  h('td', {}, outcomeBadge(c)),
  h('td', {}, c.agent || '—'));
}

function markSelected(callId) {
  for (const row of document.querySelectorAll('#call-rows tr[data-call-id]')) {
    row.classList.toggle('selected', row.dataset.callId === callId);
  }
}

function loadDetail(tenant, callId) {
  const box = $('#call-detail');
  box.dataset.callId = callId;
  box.dataset.state = 'loading';
  markSelected(callId);
  load('detail', tenantPath(tenant, `/calls/${enc(callId)}`), (call) => {
    if (state.blobUrl) URL.revokeObjectURL(state.blobUrl);
    state.blobUrl = '';
    replace(box, renderDetail(call));
    box.dataset.state = 'ready';
    box.scrollTop = 0;
  }, (err) => {
    replace(box, h('p', { class: 'error' }, err.message));
    box.dataset.state = 'error';
  });
}

function renderDetail(c) {
  const rec = c.record;
  const agents = rec && rec.agents && rec.agents.length
    ? rec.agents.map((a) => `${a.name} (${a.reason})`).join(', ') : c.agent;
  const transfers = (rec && rec.transfers) || [];
  return [
    h('div', { class: 'detail-head' },
      h('h3', {}, `${shortNumber(c.caller)} → ${shortNumber(c.called)}`), outcomeBadge(c)),
    facts([
      ['Tenant', c.tenant], ['Call ID', c.call_id], ['Started', fmtTime(c.started_at)],
      ['Ended', c.ended_at && fmtTime(c.ended_at)], ['Duration', c.duration_ms != null && fmtDuration(c.duration_ms)],
      ['End reason', c.end_reason], ['Agents', agents],
      ['Contact', rec && rec.contact && `${rec.contact.name} (${rec.contact.id}, ${rec.contact.tier})`],
      ['Plugin versions', (c.plugin_versions || []).join(', ')],
      ['Transfers', transfers.join(', ')],
    ]),
    block('Summary', h('p', { class: 'summary' }, (rec && rec.summary) || c.summary || '—')),
    rec ? [
      block('Transcript', transcript(rec.turns || [])),
      block('Plugin calls', pluginCallTable(rec.plugin_calls || [])),
      rec.transactions && rec.transactions.length ? block('Transactions', transactionTable(rec.transactions)) : null,
    ] : block('Transcript', h('p', { class: 'muted' },
      c.status === 'active' ? 'The call is in progress; its record appears when it ends.' : 'No dialog record for this call.')),
    block('Media (RTP)', c.rtp ? rtpFacts(c.rtp) : h('p', { class: 'muted' }, 'No RTP statistics.')),
    block('Recording', recordingControl(c)),
  ];
}

function block(title, ...content) {
  return h('div', { class: 'block' }, h('h4', {}, title), content);
}

function facts(pairs) {
  return h('dl', { class: 'facts' }, pairs
    .filter(([, value]) => value != null && value !== '' && value !== false && value !== 0)
    .map(([key, value]) => [h('dt', {}, key), h('dd', {}, value)]));
}

function transcript(turns) {
  if (!turns.length) return h('p', { class: 'muted' }, 'No turns recorded.');
  return h('div', { class: 'transcript' }, turns.map((t) => {
    const who = t.who === 'caller' ? 'caller' : 'agent';
    const meta = [
      t.text && t.input && t.input !== 'speech' ? t.input : null, // empty turns show it as the text
      t.intent,
      t.confidence != null ? `${Math.round(t.confidence * 100)} %` : null,
    ].filter(Boolean).join(' · ');
    return h('div', { class: `turn ${who}` },
      h('div', { class: 'bubble' },
        h('span', { class: 'who' }, who === 'caller' ? 'Caller' : 'Agent'),
        h('p', { class: 'text' }, t.text || ''),
        t.text ? null : h('p', { class: 'placeholder' }, t.input ? `(${t.input})` : '(silence)'),
        meta && h('span', { class: 'meta' }, meta)));
  }));
}

function pluginCallTable(calls) {
  if (!calls.length) return h('p', { class: 'muted' }, 'No plugin calls.');
  const io = (arrow, text) => text && h('div', { class: 'io mono', title: text }, `${arrow} ${text}`);
  return h('table', { class: 'grid compact' },
    h('thead', {}, h('tr', {}, h('th', {}, 'Function, arguments → result'), h('th', {}, 'Outcome'),
      h('th', { class: 'num' }, 'ms'), h('th', {}, 'Plugin'))),
    h('tbody', {}, calls.map((p) => h('tr', {},
      h('td', {}, h('div', { class: 'mono fn' }, p.function), io('←', p.arguments), io('→', p.result)),
      h('td', {}, badge(p.outcome, p.outcome === 'ok' ? 'good' : 'bad')),
      h('td', { class: 'num' }, fmtUs(p.duration_us)),
      h('td', {}, p.plugin, h('div', { class: 'muted small mono' }, p.version))))));
}

function transactionTable(rows) {
  return h('table', { class: 'grid compact' },
    h('thead', {}, h('tr', {}, ['Kind', 'Transaction', 'Summary', 'State', 'Reference'].map((t) => h('th', {}, t)))),
    h('tbody', {}, rows.map((t) => h('tr', {},
      h('td', {}, t.kind), h('td', { class: 'mono' }, t.transaction_id), h('td', {}, t.summary),
      h('td', {}, badge(t.state, t.state === 'committed' ? 'good' : t.state === 'prepared' ? 'info' : 'bad')),
      h('td', { class: 'mono' }, t.reference || '—')))));
}

function rtpFacts(rtp) {
  return facts(Object.entries(rtp).map(([key, value]) => [
    key.replace(/_/g, ' ').replace(/ ms$/, ' (ms)'),
    typeof value === 'number' && !Number.isInteger(value) ? value.toFixed(1) : String(value),
  ]));
}

/** The recording needs the bearer header, so it is fetched and offered as a blob URL. */
function recordingControl(c) {
  if (!c.recording) return h('p', { class: 'muted' }, 'Not recorded.');
  const holder = h('div', { class: 'recording' });
  const button = h('button', { type: 'button', id: 'recording-download' }, 'Download recording');
  button.addEventListener('click', async () => {
    button.disabled = true;
    try {
      const res = await api(tenantPath(c.tenant, `/calls/${enc(c.call_id)}/recording`), { raw: true });
      if (state.blobUrl) URL.revokeObjectURL(state.blobUrl);
      state.blobUrl = URL.createObjectURL(await res.blob());
      const link = h('a', { href: state.blobUrl, download: `${c.call_id.replace(/[^\w.-]+/g, '_')}.wav` }, 'Save WAV again');
      replace(holder, h('audio', { controls: true, src: state.blobUrl }), link);
      link.click();
    } catch (err) {
      report(err);
      button.disabled = false;
    }
  });
  holder.append(button);
  return holder;
}

// ---------------------------------------------------------------- KPIs

function loadKpis() {
  if (!state.tenant) return;
  const section = $('#kpis');
  const hours = Number($('#kpi-period').value);
  const since = isoSeconds(new Date(Date.now() - hours * 3600e3));
  section.dataset.state = 'loading';
  load('kpis', tenantPath(state.tenant, `/stats${query({ since })}`), (stats) => {
    renderKpis(stats, hours);
    section.dataset.state = 'ready'; // tests wait for this before the screenshot
  }, (err) => {
    section.dataset.state = 'error';
    report(err);
  });
}

function renderKpis(stats, hours) {
  const card = (label, value, note) => h('div', { class: 'card' },
    h('span', { class: 'label' }, label), h('span', { class: 'value' }, value), note && h('span', { class: 'note' }, note));
  replace($('#kpi-cards'),
    card('Calls', String(stats.calls ?? 0)),
    card('Containment', fmtPercent(stats.containment_rate), 'finished without a person'),
    card('Transferred', fmtPercent(stats.transfer_rate), 'handed to a person'),
    card('Average handling time', fmtDuration(stats.average_handling_ms)));
  replace($('#chart-split'), splitBar(stats.containment_rate || 0, stats.transfer_rate || 0, stats.calls || 0));
  const buckets = bucketCalls(stats.calls_per_hour || [], hours);
  $('#calls-caption').textContent = buckets.daily ? 'Calls per day' : 'Calls per hour';
  replace($('#chart-hours'), callsChart(buckets));
  replace($('#chart-latency'), latencyChart(stats.plugin_latency || []));
}

/** One 100 % bar: contained, transferred, and the rest (hang-ups, errors). */
function splitBar(contained, transferred, calls) {
  if (!calls) return h('p', { class: 'muted' }, 'No calls in this period.');
  const other = Math.max(0, 1 - contained - transferred);
  const parts = [['contained', contained], ['transferred', transferred], ['other', other]];
  let x = 0;
  const rects = parts.map(([name, ratio]) => {
    const rect = s('rect', { x: `${x * 100}%`, y: 0, width: `${ratio * 100}%`, height: 22, class: `seg-${name}` },
      s('title', {}, `${name}: ${fmtPercent(ratio)}`));
    x += ratio;
    return rect;
  });
  return [
    s('svg', { class: 'chart split-bar', width: '100%', height: 22, role: 'img', 'aria-label': 'containment and transfer rates' }, rects),
    h('div', { class: 'legend' }, parts.map(([name, ratio]) => h('span', {}, h('i', { class: `swatch seg-${name}` }), `${name} ${fmtPercent(ratio)}`))),
  ];
}

/**
 * The API lists hours that had calls; the chart needs every bucket in the period,
 * hourly up to two days and daily beyond (720 bars would be unreadable).
 */
function bucketCalls(rows, hours) {
  const daily = hours > 48;
  const floor = (t) => (daily ? new Date(t).setHours(0, 0, 0, 0) : new Date(t).setMinutes(0, 0, 0));
  // Days are not always 24 h (DST), so a day's step is a calendar step.
  const next = (t) => {
    const d = new Date(t);
    return daily ? d.setDate(d.getDate() + 1) : t + 3600e3;
  };
  const buckets = new Map();
  for (let t = floor(Date.now() - hours * 3600e3); t <= Date.now(); t = next(t)) buckets.set(t, 0);
  for (const row of rows) {
    const key = floor(Date.parse(row.hour));
    if (buckets.has(key)) buckets.set(key, buckets.get(key) + (row.calls || 0));
  }
  return { daily, buckets: [...buckets].map(([t, calls]) => ({ t, calls })) };
}

function niceStep(max, ticks) {
  const raw = Math.max(1, max) / ticks;
  const power = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * power).find((m) => m >= raw);
  return Math.max(1, step);
}

function callsChart({ daily, buckets }) {
  const W = 560, H = 210, L = 34, R = 8, T = 10, B = 26;
  const max = Math.max(0, ...buckets.map((b) => b.calls));
  const step = niceStep(max, 4);
  const top = Math.max(step, Math.ceil(max / step) * step);
  const y = (v) => T + (H - T - B) * (1 - v / top);
  const slot = (W - L - R) / buckets.length;
  const labelEvery = Math.ceil(buckets.length / 7);
  const label = (t) => (daily ? dayFormat : hourFormat).format(new Date(t));
  const grid = [];
  for (let v = 0; v <= top; v += step) {
    grid.push(s('line', { x1: L, x2: W - R, y1: y(v), y2: y(v), class: 'gridline' }),
      s('text', { x: L - 5, y: y(v) + 4, class: 'axis', 'text-anchor': 'end' }, String(v)));
  }
  const bars = buckets.map((b, i) => [
    s('rect', { x: L + i * slot + slot * 0.12, y: y(b.calls), width: Math.max(1, slot * 0.76), height: y(0) - y(b.calls), class: 'bar' },
      s('title', {}, `${daily ? dayFormat.format(new Date(b.t)) : fmtTime(b.t)}: ${b.calls} calls`)),
    i % labelEvery === 0 ? s('text', {
      x: L + i * slot + slot / 2, y: H - 8, class: 'axis',
      'text-anchor': i === 0 ? 'start' : i + labelEvery >= buckets.length ? 'end' : 'middle',
    }, label(b.t)) : null,
  ]);
  return s('svg', { class: 'chart', viewBox: `0 0 ${W} ${H}`, role: 'img', 'aria-label': 'calls per hour' }, grid, bars);
}

function latencyChart(rows) {
  if (!rows.length) return h('p', { class: 'muted' }, 'No plugin calls in this period.');
  const sorted = rows.slice().sort((a, b) => b.p95_us - a.p95_us);
  const W = 560, L = 178, R = 60, ROW = 34, T = 22;
  const H = T + sorted.length * ROW + 4;
  const max = Math.max(1, ...sorted.map((r) => Math.max(r.p95_us, r.p50_us)));
  const x = (us) => ((W - L - R) * us) / max;
  const legend = [['p50', 'bar-p50', 0], ['p95', 'bar-p95', 60]].map(([name, cls, dx]) => [
    s('rect', { x: L + dx, y: 4, width: 10, height: 10, class: cls }),
    s('text', { x: L + dx + 14, y: 13, class: 'axis' }, name),
  ]);
  const bars = sorted.map((r, i) => {
    const top = T + i * ROW;
    return s('g', {},
      s('title', {}, `${r.function}: ${r.calls} calls, p50 ${fmtUs(r.p50_us)} ms, p95 ${fmtUs(r.p95_us)} ms`),
      s('text', { x: L - 8, y: top + 17, class: 'label', 'text-anchor': 'end' }, r.function),
      s('rect', { x: L, y: top + 3, width: Math.max(1, x(r.p50_us)), height: 11, class: 'bar-p50' }),
      s('text', { x: L + x(r.p50_us) + 4, y: top + 12, class: 'axis' }, fmtUs(r.p50_us)),
      s('rect', { x: L, y: top + 16, width: Math.max(1, x(r.p95_us)), height: 11, class: 'bar-p95' }),
      s('text', { x: L + x(r.p95_us) + 4, y: top + 25, class: 'axis' }, fmtUs(r.p95_us)));
  });
  return s('svg', { class: 'chart', viewBox: `0 0 ${W} ${H}`, role: 'img', 'aria-label': 'plugin latency' }, legend, bars);
}

// ---------------------------------------------------------------- plugins

function loadPlugins() {
  const tenant = state.tenant;
  if (tenant) load('plugins', tenantPath(tenant, '/plugins'), (data) => renderPlugins(tenant, data));
}

function renderPlugins(tenant, data) {
  const bindings = (data.active && data.active.bindings) || {};
  const versions = data.versions || [];
  const shortOf = (id) => (versions.find((v) => v.id === id) || {}).short_id || String(id).slice(0, 12);
  $('#plugin-generation').textContent = data.active ? `generation ${data.active.generation}` : 'nothing active';
  replace($('#plugin-bindings'), Object.keys(bindings).sort().map((iface) => h('li', {},
    h('span', { class: 'chip on' }, iface), h('span', { class: 'mono', title: bindings[iface] }, shortOf(bindings[iface])))));
  replace($('#plugin-rows'), versions.length
    ? versions.map((v) => versionRow(tenant, v, bindings, data.canary))
    : h('tr', {}, h('td', { colspan: 6, class: 'empty-cell' }, 'No plugin versions uploaded.')));
}

function versionRow(tenant, v, bindings, canary) {
  const interfaces = v.interfaces || [];
  const serves = Object.keys(bindings).filter((iface) => bindings[iface] === v.id).sort();
  // "full": every interface the version exports is bound to it.
  const active = !serves.length ? 'none' : interfaces.every((i) => bindings[i] === v.id) ? 'full' : 'partial';
  const button = h('button', { type: 'button', class: 'activate', disabled: active === 'full' }, active === 'full' ? 'Active' : 'Activate');
  armable(button, 'Confirm activate', async () => {
    const data = await api(tenantPath(tenant, `/plugins/${enc(v.id)}/activate`), { method: 'POST' });
    renderPlugins(tenant, data);
    toast(`Activated ${v.name} ${v.short_id}: generation ${data.active ? data.active.generation : '?'}.`);
  });
  return h('tr', {
    class: active === 'none' ? '' : 'serving',
    dataset: { version: v.id, active, serves: serves.join(' '), interfaces: interfaces.join(' ') },
  },
  h('td', {}, h('strong', {}, v.name), ' ',
    active === 'full' ? badge('active', 'good') : active === 'partial' ? badge(`partial ${serves.length}/${interfaces.length}`, 'info') : null,
    canary && canary.version === v.id ? badge(`canary ${canary.percent} %`, 'warn') : null),
  h('td', {}, h('span', { class: 'mono', title: v.id }, v.short_id), h('div', { class: 'muted small' }, `WIT ${v.wit_version}`)),
  h('td', { class: 'num' }, fmtBytes(v.size)),
  h('td', {}, fmtTime(v.uploaded_at), h('div', { class: 'muted small' }, `by ${v.uploaded_by}`)),
  h('td', {}, interfaces.map((i) => h('span', { class: bindings[i] === v.id ? 'chip on' : 'chip' }, i))),
  h('td', { class: 'actions' }, button));
}

/**
 * Two-step button: the first click arms it, a second click within 5 s acts.
 * Swapping plugins under live traffic deserves a second look, and a native
 * confirm() dialog would block automated tests.
 */
function armable(button, confirmLabel, action) {
  const label = button.textContent;
  let timer = 0;
  const arm = (on) => {
    clearTimeout(timer);
    button.dataset.armed = String(on);
    button.classList.toggle('armed', on);
    button.textContent = on ? confirmLabel : label;
    if (on) timer = setTimeout(() => arm(false), 5000);
  };
  button.addEventListener('click', async () => {
    if (button.dataset.armed !== 'true') {
      arm(true);
      return;
    }
    arm(false);
    button.disabled = true;
    button.textContent = 'Working…';
    try {
      await action();
    } catch (err) {
      report(err);
    } finally {
      button.disabled = false;
      button.textContent = label;
    }
  });
}

async function rollback() {
  const tenant = state.tenant;
  const data = await api(tenantPath(tenant, '/plugins/rollback'), { method: 'POST' });
  renderPlugins(tenant, data);
  toast(`Rolled back: generation ${data.active ? data.active.generation : '?'} is active.`);
}

// ---------------------------------------------------------------- alerts

function refreshAlerts() {
  const box = $('#alerts');
  if (!state.me || !state.tenant) {
    box.hidden = true;
    return;
  }
  load('alerts', tenantPath(state.tenant, '/alerts'), ({ firing = [] }) => {
    replace(box, firing.map((a) => h('div', { class: 'alert' },
      h('strong', {}, a.rule), ' ', a.message, h('span', { class: 'since' }, ` since ${fmtTime(a.since)}`))));
    box.hidden = firing.length === 0;
  }, (err) => {
    // A gateway without alert rules answers 404: no banner, and no toast either.
    if (err.status !== 404) console.warn('cannot read alerts', err);
    box.hidden = true;
  });
}

// ---------------------------------------------------------------- start-up

function init() {
  $('#login-form').addEventListener('submit', login);
  $('#logout').addEventListener('click', () => logout(''));
  $('#tenant').addEventListener('change', changeTenant);
  $('#call-filters').addEventListener('submit', (e) => loadCalls(e.preventDefault()));
  // "reset" fires before the fields are cleared, hence the timeout.
  $('#call-filters').addEventListener('reset', () => setTimeout(loadCalls, 0));
  $('#kpi-period').addEventListener('change', loadKpis);
  armable($('#rollback'), 'Confirm roll back', rollback);
  window.addEventListener('hashchange', route);
  setInterval(tickDurations, 1000);
  setInterval(refreshAlerts, 60000);
  if (state.token) start();
  else showLogin('');
}

init();
