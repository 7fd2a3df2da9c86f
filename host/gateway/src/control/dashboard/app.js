'use strict';
// voxgate operator dashboard. Plain ES2020 with no dependencies: the gateway embeds and
// serves this file itself, so the page works offline and needs no build step. It talks
// to the admin API on the same origin; every element is built with the DOM API (never
// innerHTML) because call transcripts and plugin results are caller-controlled text.

// API paths are relative to the page, so the dashboard also works behind a path prefix.
const BASE = location.pathname.replace(/[^/]*$/, '');
const TOKEN_KEY = 'voxgate.token';
const TENANT_KEY = 'voxgate.tenant';
const SECTIONS = ['live', 'calls', 'kpis', 'analytics', 'plugins'];
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
  timers: {}, blobUrl: '', csvUrl: '',
  groupBy: 'queue', analytics: null, // the analytics KPIs shown, for switching the grouping
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

/**
 * Routes: #/live, #/calls, #/calls/<tenant>/<call id>, #/kpis, #/analytics,
 * #/analytics/<tenant>/<analysis id>, #/plugins.
 */
function parseHash() {
  const decode = (part) => {
    try {
      return decodeURIComponent(part);
    } catch (_) {
      return part; // a hand-edited hash with a stray "%"
    }
  };
  const [section, tenant = '', id = ''] = location.hash.replace(/^#\/?/, '').split('/').map(decode);
  return { section: SECTIONS.includes(section) ? section : 'live', tenant, id };
}

function route() {
  if (!state.me) return;
  const { section, tenant, id } = parseHash();
  const entering = state.section !== section;
  state.section = section;
  for (const el of document.querySelectorAll('[data-section]')) el.hidden = el.dataset.section !== section;
  for (const link of document.querySelectorAll('[data-nav]')) {
    link.classList.toggle('current', link.dataset.nav === section);
  }
  if (!state.tenant) return;
  if (section === 'calls') {
    if (entering) loadCalls();
    if (id) loadDetail(tenant, id);
  } else if (section === 'analytics') {
    if (entering) loadAnalytics();
    if (id) loadAnalysis(tenant, id);
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
  // voxgate analyses its own calls as their record arrives.
  if (state.section === 'analytics') later('analytics', loadAnalytics, 1500);
  const open = parseHash();
  if (state.section === 'calls' && open.id === event.call_id) {
    later('detail', () => loadDetail(open.tenant, open.id), 1000);
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
    markSelected(parseHash().id);
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
    c.analysis ? block('Analysis', analysisPanel(c.analysis)) : null,
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

// ---------------------------------------------------------------- analytics

const SENTIMENTS = ['positive', 'neutral', 'negative']; // bottom to top in the stacked bars
const SENTIMENT_BADGES = { positive: 'good', negative: 'bad', neutral: '' };
const BUILTIN_CATEGORIES = ['complaint', 'question', 'order', 'delivery', 'other'];
const ANALYSIS_STATES = { queued: 'info', running: 'info', done: 'good', failed: 'bad' };
const GROUPS = { queue: ['by_queue', 'Queue'], agent: ['by_agent', 'Agent'], department: ['by_department', 'Department'] };
const DEFAULT_DAYS = 30;

/** Days are the API's: UTC dates, `YYYY-MM-DD`. */
const utcDay = (date) => date.toISOString().slice(0, 10);
const isDay = (text) => /^\d{4}-\d{2}-\d{2}$/.test(text);

function addDays(day, n) {
  const date = new Date(`${day}T00:00:00Z`);
  date.setUTCDate(date.getUTCDate() + n);
  return utcDay(date);
}

const utcDayFormat = new Intl.DateTimeFormat(undefined, { month: 'short', day: 'numeric', timeZone: 'UTC' });
const fmtDay = (day) => utcDayFormat.format(new Date(`${day}T00:00:00Z`));

const callCount = (n) => `${n} call${n === 1 ? '' : 's'}`;
const fmtScore = (score) => (score == null || Number.isNaN(Number(score)) ? '—' : `${score > 0 ? '+' : ''}${Number(score).toFixed(2)}`);
const orDash = (text) => (text == null || text === '' ? '—' : String(text));

function setupAnalytics() {
  const form = $('#analytics-filters');
  // The default period is the last 30 days; "Clear" returns to it.
  form.elements.since.defaultValue = addDays(utcDay(new Date()), 1 - DEFAULT_DAYS);
  form.addEventListener('submit', (e) => loadAnalytics(e.preventDefault()));
  form.addEventListener('reset', () => setTimeout(loadAnalytics, 0));
  $('#analytics-export').addEventListener('click', exportCsv);
  for (const button of document.querySelectorAll('#breakdown-pick [data-by]')) {
    button.addEventListener('click', () => {
      state.groupBy = button.dataset.by;
      if (state.analytics) renderBreakdown(state.analytics);
    });
  }
  setCategoryOptions([]);
}

/**
 * The filters as the API takes them. The date fields are whole UTC days with "until"
 * included, while the API's `until` is exclusive: it gets the next day's midnight.
 */
function analyticsFilters() {
  const form = new FormData($('#analytics-filters'));
  const text = (name) => String(form.get(name) || '').trim();
  const since = text('since');
  const until = text('until');
  return {
    since: isDay(since) ? `${since}T00:00:00Z` : '',
    until: isDay(until) ? `${addDays(until, 1)}T00:00:00Z` : '',
    status: text('status'), category: text('category'), sentiment: text('sentiment'),
    queue: text('queue'), agent_id: text('agent_id'), department: text('department'),
  };
}

/** The KPIs and the list of analyses, for the same filters. */
async function loadAnalytics() {
  const tenant = state.tenant;
  if (!tenant) return;
  const section = $('#analytics');
  const filters = analyticsFilters();
  const isLatest = begin('analytics');
  section.dataset.state = 'loading';
  $('#analysis-list').classList.add('loading');
  try {
    const [kpis, list] = await Promise.all([
      api(tenantPath(tenant, `/analytics${query(filters)}`)),
      api(tenantPath(tenant, `/analyses${query({ ...filters, limit: 500 })}`)),
    ]);
    if (!isLatest()) return;
    state.analytics = kpis;
    renderAnalytics(kpis, filters);
    renderAnalysisList(tenant, list.analyses || []);
    section.dataset.state = 'ready'; // tests wait for this
  } catch (err) {
    if (!isLatest()) return;
    section.dataset.state = 'error';
    report(err);
  } finally {
    if (isLatest()) $('#analysis-list').classList.remove('loading');
  }
}

function setCategoryOptions(names) {
  const select = $('#analytics-category');
  const current = select.value;
  const all = [...new Set([...BUILTIN_CATEGORIES, ...names, current].filter(Boolean))];
  replace(select, h('option', { value: '' }, 'any'), all.map((name) => h('option', { value: name }, name)));
  select.value = current;
}

function renderAnalytics(k, filters) {
  const sentiment = k.sentiment || {};
  const rated = SENTIMENTS.reduce((sum, name) => sum + (sentiment[name] || 0), 0);
  const categories = Object.entries(k.categories || {}).sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]));
  const finished = categories.reduce((sum, [, n]) => sum + n, 0);
  const [top, topCount] = categories[0] || ['—', 0];
  const card = (kpi, label, value, note) => h('div', { class: 'card', dataset: { kpi } },
    h('span', { class: 'label' }, label), h('span', { class: 'value' }, value), note && h('span', { class: 'note' }, note));
  replace($('#analytics-cards'),
    card('total', 'Analysed calls', String(k.total ?? 0), `${k.pending || 0} pending · ${k.failed || 0} failed`),
    card('done', 'Done', String(k.done ?? 0), k.total ? `${fmtPercent((k.done || 0) / k.total)} of all` : null),
    card('negative', 'Negative', rated ? fmtPercent((sentiment.negative || 0) / rated) : '—',
      rated ? `${sentiment.negative || 0} of ${callCount(rated)}` : 'no finished analyses'),
    card('top-category', 'Top category', top, finished ? `${callCount(topCount)} · ${fmtPercent(topCount / finished)}` : null));
  const since = filters.since.slice(0, 10);
  const until = filters.until && addDays(filters.until.slice(0, 10), -1);
  $('#analytics-period').textContent = since || until
    ? `${since ? fmtDay(since) : 'start'} – ${until ? fmtDay(until) : 'today'} (UTC days)` : 'all time';
  replace($('#chart-sentiment'), sentimentChart(k.over_time || [], since, until));
  replace($('#chart-categories'), categoryChart(categories));
  renderBreakdown(k);
  setCategoryOptions(categories.map(([name]) => name));
}

/**
 * Every day of the period on the axis (the API leaves out days without calls), one
 * stacked bar per day that had finished analyses. An open or very long period shows
 * the days from the first to the last with data.
 */
function chartDays(rows, since, until) {
  const data = [...new Set(rows.map((r) => r.day).filter(isDay))].sort();
  const span = (first, last) => {
    const days = [];
    for (let day = first; day <= last && days.length <= 120; day = addDays(day, 1)) days.push(day);
    return days;
  };
  const first = since || data[0];
  const last = until || [utcDay(new Date()), data[data.length - 1]].filter(Boolean).sort().pop();
  let days = first && last && first <= last ? span(first, last) : [];
  if (days.length > 120 && data.length) days = span(data[0], data[data.length - 1]);
  if (days.length > 120) days = [];
  // A day with data is always shown, even one outside the period (a call dated ahead).
  return [...new Set([...days, ...data])].sort();
}

function sentimentChart(rows, since, until) {
  const byDay = new Map(rows.filter((r) => r.count > 0).map((r) => [r.day, r]));
  if (!byDay.size) return h('p', { class: 'muted' }, 'No finished analyses in this period.');
  const days = chartDays(rows, since, until);
  const W = 560, H = 210, L = 34, R = 8, T = 10, B = 26;
  const max = Math.max(0, ...[...byDay.values()].map((r) => r.count));
  const step = niceStep(max, 4);
  const top = Math.max(step, Math.ceil(max / step) * step);
  const y = (v) => T + (H - T - B) * (1 - v / top);
  const slot = (W - L - R) / days.length;
  const labelEvery = Math.ceil(days.length / 7);
  const grid = [];
  for (let v = 0; v <= top; v += step) {
    grid.push(s('line', { x1: L, x2: W - R, y1: y(v), y2: y(v), class: 'gridline' }),
      s('text', { x: L - 5, y: y(v) + 4, class: 'axis', 'text-anchor': 'end' }, String(v)));
  }
  const bars = days.map((day, i) => {
    const row = byDay.get(day);
    const x = L + i * slot + slot * 0.12;
    const width = Math.max(1, slot * 0.76);
    let base = 0;
    const label = i % labelEvery === 0 ? s('text', {
      x: L + i * slot + slot / 2, y: H - 8, class: 'axis',
      'text-anchor': i === 0 ? 'start' : i + labelEvery >= days.length ? 'end' : 'middle',
    }, fmtDay(day)) : null;
    if (!row) return label;
    const segments = SENTIMENTS.filter((name) => row[name] > 0).map((name) => {
      const rect = s('rect', { x, y: y(base + row[name]), width, height: y(base) - y(base + row[name]), class: `sent-${name}` });
      base += row[name];
      return rect;
    });
    return [s('g', { class: 'day-bar', 'data-day': day, 'data-count': row.count },
      s('title', {}, `${fmtDay(day)}: ${callCount(row.count)} — ${SENTIMENTS.map((n) => `${row[n] || 0} ${n}`).join(', ')}; mean score ${fmtScore(row.score)}`),
      segments), label];
  });
  return [
    s('svg', { class: 'chart', viewBox: `0 0 ${W} ${H}`, role: 'img', 'aria-label': 'sentiment per day' }, grid, bars),
    h('div', { class: 'legend' }, SENTIMENTS.slice().reverse().map((name) => h('span', {}, h('i', { class: `swatch sent-${name}` }), name))),
  ];
}

function categoryChart(categories) {
  if (!categories.length) return h('p', { class: 'muted' }, 'No finished analyses in this period.');
  const W = 560, L = 110, R = 70, ROW = 26, T = 4;
  const H = T + categories.length * ROW + 4;
  const total = categories.reduce((sum, [, n]) => sum + n, 0);
  const max = Math.max(1, ...categories.map(([, n]) => n));
  const x = (n) => ((W - L - R) * n) / max;
  const bars = categories.map(([name, n], i) => {
    const top = T + i * ROW;
    return s('g', { class: 'category-bar', 'data-category': name },
      s('title', {}, `${name}: ${callCount(n)} (${fmtPercent(n / total)})`),
      s('text', { x: L - 8, y: top + 16, class: 'label', 'text-anchor': 'end' }, name),
      s('rect', { x: L, y: top + 4, width: Math.max(1, x(n)), height: 16, class: 'bar' }),
      s('text', { x: L + x(n) + 5, y: top + 16, class: 'axis' }, `${n} · ${fmtPercent(n / total)}`));
  });
  return s('svg', { class: 'chart', viewBox: `0 0 ${W} ${H}`, role: 'img', 'aria-label': 'calls per category' }, bars);
}

/** A 100 % bar of one group's sentiment counts. */
function sentimentSplit(counts) {
  const total = SENTIMENTS.reduce((sum, name) => sum + (counts[name] || 0), 0);
  if (!total) return '—';
  let x = 0;
  return s('svg', { class: 'chart split-bar mini', width: '100%', height: 12, role: 'img', 'aria-label': 'sentiment' },
    SENTIMENTS.slice().reverse().map((name) => {
      const ratio = (counts[name] || 0) / total;
      const rect = s('rect', { x: `${x * 100}%`, y: 0, width: `${ratio * 100}%`, height: 12, class: `sent-${name}` },
        s('title', {}, `${name}: ${counts[name] || 0} (${fmtPercent(ratio)})`));
      x += ratio;
      return rect;
    }));
}

function renderBreakdown(k) {
  const [key, label] = GROUPS[state.groupBy] || GROUPS.queue;
  for (const button of document.querySelectorAll('#breakdown-pick [data-by]')) {
    button.setAttribute('aria-pressed', String(button.dataset.by === state.groupBy));
  }
  const groups = k[key] || [];
  replace($('#breakdown'), groups.length ? h('table', { class: 'grid compact breakdown', dataset: { by: state.groupBy } },
    h('thead', {}, h('tr', {}, h('th', {}, label), h('th', { class: 'num' }, 'Calls'), h('th', { class: 'sentiment-col' }, 'Sentiment (negative · neutral · positive)'),
      h('th', { class: 'num' }, 'Mean score'), h('th', {}, 'Top category'))),
    h('tbody', {}, groups.map((g) => h('tr', { dataset: { key: g.key } },
      h('td', {}, g.key && g.key !== '(none)' ? g.key : h('span', { class: 'muted' }, '(none)')),
      h('td', { class: 'num' }, String(g.count)),
      h('td', { class: 'sentiment-col' }, sentimentSplit(g)),
      h('td', { class: 'num' }, fmtScore(g.score)),
      h('td', {}, orDash(g.top_category)))))) : h('p', { class: 'muted' }, `No finished analyses to group by ${label.toLowerCase()}.`));
}

function sentimentBadge(sentiment) {
  if (!sentiment) return '—';
  const el = badge(sentiment.label, SENTIMENT_BADGES[sentiment.label] || '');
  el.title = `score ${fmtScore(sentiment.score)}`;
  return el;
}

function statusBadge(a) {
  const text = a.status === 'running' ? `running ${Math.round((a.progress || 0) * 100)} %` : a.status;
  const el = badge(text, ANALYSIS_STATES[a.status] || '');
  if (a.error) el.title = a.error;
  return el;
}

function renderAnalysisList(tenant, analyses) {
  replace($('#analysis-rows'), analyses.length ? analyses.map((a) => {
    const m = a.metadata || {};
    const r = a.result;
    const open = () => openAnalysis(tenant, a.id);
    return h('tr', {
      class: 'clickable', tabindex: 0, title: 'Open analysis', dataset: { analysisId: a.id, callId: a.call_id },
      onclick: open, onkeydown: (e) => e.key === 'Enter' && open(),
    },
    h('td', { title: fmtTime(m.date_time) }, fmtTime(m.date_time, shortFormat)),
    h('td', { title: a.call_id }, orDash(m.caller_id && shortNumber(m.caller_id))),
    h('td', {}, orDash(m.queue)),
    h('td', {}, orDash(m.agent_id)),
    h('td', {}, r ? r.category : '—'),
    h('td', {}, r ? sentimentBadge(r.sentiment.overall) : '—'),
    h('td', { title: r ? `customer ${orDash(r.tone.customer)}, agent ${orDash(r.tone.agent)}` : '' },
      r ? [orDash(r.tone.customer), h('div', { class: 'muted small' }, `agent ${orDash(r.tone.agent)}`)] : '—'),
    h('td', {}, statusBadge(a)));
  }) : h('tr', {}, h('td', { colspan: 8, class: 'empty-cell' }, 'No analyses match these filters.')));
  markAnalysis(parseHash().id);
}

function markAnalysis(id) {
  for (const row of document.querySelectorAll('#analysis-rows tr[data-analysis-id]')) {
    row.classList.toggle('selected', row.dataset.analysisId === id);
  }
}

function openAnalysis(tenant, id) {
  const hash = `#/analytics/${enc(tenant)}/${enc(id)}`;
  if (location.hash === hash) loadAnalysis(tenant, id);
  else location.hash = hash;
}

/** Shows one analysis; one still in the queue is polled until it is done or failed. */
function loadAnalysis(tenant, id) {
  const box = $('#analysis-detail');
  box.dataset.analysisId = id;
  box.dataset.state = 'loading';
  markAnalysis(id);
  clearTimeout(state.timers.analysis);
  load('analysis', tenantPath(tenant, `/analyses/${enc(id)}`), (a) => {
    replace(box, renderAnalysis(a));
    box.dataset.state = 'ready';
    if (a.status === 'queued' || a.status === 'running') {
      later('analysis', () => {
        const open = parseHash();
        if (state.section === 'analytics' && open.id === id) loadAnalysis(tenant, id);
      }, 2000);
    }
  }, (err) => {
    replace(box, h('p', { class: 'error' }, err.message));
    box.dataset.state = 'error';
  });
}

function renderAnalysis(a) {
  const m = a.metadata || {};
  const customer = m.customer && typeof m.customer === 'object' && !Array.isArray(m.customer) ? Object.entries(m.customer) : [];
  const callLinkEl = a.source === 'voxgate'
    ? h('a', { href: `#/calls/${enc(a.tenant)}/${enc(a.call_id)}` }, a.call_id) : a.call_id;
  return [
    h('div', { class: 'detail-head' },
      h('h3', {}, m.caller_id ? shortNumber(m.caller_id) : a.call_id), statusBadge(a),
      h('span', { class: 'muted small' }, a.source === 'voxgate' ? 'voxgate call' : 'posted recording')),
    analysisProgress(a),
    facts([
      ['Call ID', callLinkEl], ['Analysis', h('span', { class: 'mono' }, a.id)],
      ['Call time', fmtTime(m.date_time)], ['Duration', m.duration != null && fmtDuration(m.duration * 1000)],
      ['Recording', a.recording_ms != null && fmtDuration(a.recording_ms)],
      ['Fetched from', m.recording && (m.recording.url || (m.recording.ref && `reference ${m.recording.ref}`))],
      ['Topic', m.call_topic], ['Queue', m.queue], ['Agent', m.agent_id], ['Department', m.department],
      ['Accepted', fmtTime(a.created_at)], ['Finished', a.finished_at && fmtTime(a.finished_at)],
      ['Attempts', a.attempts > 1 ? String(a.attempts) : null], ['Credits', a.credits ? String(a.credits) : null],
    ]),
    customer.length ? block('Customer', facts(customer.map(([key, value]) => [key.replace(/_/g, ' '),
      value != null && typeof value === 'object' ? JSON.stringify(value) : String(value ?? '')]))) : null,
    a.result ? block('Results', analysisResult(a.result)) : null,
    block('Transcript', a.transcript ? analysisTranscript(a.transcript)
      : h('p', { class: 'muted' }, a.status === 'failed' ? 'No transcript: the analysis failed.' : 'The transcript appears when the analysis is done.')),
  ];
}

function analysisProgress(a) {
  if (a.status === 'done') return null;
  const note = a.status === 'failed' ? 'Failed' : a.status === 'queued' ? (a.attempts ? 'Waiting to retry' : 'Queued') : 'Working';
  return h('div', { class: 'progress-line' },
    a.status === 'failed' ? null : h('progress', { max: 1, value: a.progress || 0 }),
    h('span', {}, a.status === 'failed' ? note : `${note} · ${Math.round((a.progress || 0) * 100)} %`),
    a.error ? h('span', { class: 'error' }, a.error) : null);
}

/** A score from -1 to 1 as a bar growing left or right from the middle. */
function scoreGauge(sentiment) {
  const W = 120, mid = W / 2;
  const score = Math.max(-1, Math.min(1, Number(sentiment.score) || 0));
  const end = mid + score * mid;
  return s('svg', { class: 'gauge', viewBox: `0 0 ${W} 8`, width: W, height: 8, role: 'img', 'aria-label': `score ${fmtScore(score)}` },
    s('rect', { x: 0, y: 2, width: W, height: 4, rx: 2, class: 'track' }),
    s('rect', { x: Math.min(mid, end), y: 1, width: Math.max(1.5, Math.abs(end - mid)), height: 6, rx: 1, class: `sent-${sentiment.label}` }),
    s('line', { x1: mid, x2: mid, y1: 0, y2: 8, class: 'mid' }));
}

function analysisResult(r) {
  const sentiments = r.sentiment || {};
  const tile = (who, sentiment) => h('div', { class: 'sentiment-tile', dataset: { who } },
    h('span', { class: 'label' }, who),
    sentiment ? [h('span', { class: `value sent-text-${sentiment.label}` }, sentiment.label, ' ',
      h('span', { class: 'score' }, fmtScore(sentiment.score))), scoreGauge(sentiment)]
      : h('span', { class: 'muted' }, 'did not speak'));
  const spread = (r.categories || []).map(([name, score]) => `${name} ${Math.round(score * 100)} %`).join(' · ');
  return h('div', { class: 'analysis-result' },
    h('div', { class: 'sentiment-tiles' },
      tile('Overall', sentiments.overall), tile('Customer', sentiments.customer), tile('Agent', sentiments.agent)),
    facts([
      ['Category', h('span', {}, h('strong', { class: 'category' }, r.category), spread ? h('span', { class: 'muted small' }, ` (${spread})`) : null)],
      ['Customer tone', r.tone && r.tone.customer], ['Agent tone', r.tone && r.tone.agent],
      ['Keywords', r.keywords && r.keywords.length ? h('span', { class: 'keywords' }, r.keywords.map((k) => h('span', { class: 'chip' }, k))) : null],
      ['Analyser', `${r.analyser}${r.language ? ` · ${r.language}` : ''}`],
    ]));
}

/** The analysis of a call on its detail page (the hooks are for the browser test). */
function analysisPanel(a) {
  const r = a.result;
  const el = h('div', {
    class: 'analysis',
    dataset: {
      analysisId: a.id, status: a.status,
      category: r ? r.category : '', sentiment: r ? r.sentiment.overall.label : '',
    },
  },
  r ? analysisResult(r) : analysisProgress(a),
  h('p', { class: 'small' }, h('a', { href: `#/analytics/${enc(a.tenant)}/${enc(a.id)}` }, 'Open in Analytics')));
  return el;
}

function analysisTranscript(t) {
  const turns = t.turns || [];
  if (!turns.length) return h('p', { class: 'muted' }, 'No words were recognised.');
  const timed = turns.some((turn) => turn.end_ms > 0);
  const names = { agent: 'Agent', customer: 'Customer', unknown: 'Speaker' };
  return h('div', { class: 'transcript analysis-transcript' }, turns.map((turn) => {
    const who = names[turn.speaker] ? turn.speaker : 'unknown';
    const meta = [
      timed ? `${fmtDuration(turn.start_ms)}–${fmtDuration(turn.end_ms)}` : null,
      turn.confidence != null ? `${Math.round(turn.confidence * 100)} %` : null,
    ].filter(Boolean).join(' · ');
    return h('div', { class: `turn ${who === 'agent' ? 'agent' : 'caller'} speaker-${who}` },
      h('div', { class: 'bubble' },
        h('span', { class: `who ${who === 'agent' ? 'agent' : ''}` }, names[who]),
        h('p', { class: 'text' }, turn.text || ''),
        meta && h('span', { class: 'meta' }, meta)));
  }));
}

/** The CSV needs the bearer header too: fetched, then saved from a blob URL. */
async function exportCsv() {
  const tenant = state.tenant;
  const button = $('#analytics-export');
  if (!tenant) return;
  button.disabled = true;
  try {
    const res = await api(tenantPath(tenant, `/analytics.csv${query(analyticsFilters())}`), { raw: true });
    const blob = await res.blob();
    if (state.csvUrl) URL.revokeObjectURL(state.csvUrl);
    state.csvUrl = URL.createObjectURL(blob);
    const name = `voxgate-analytics-${tenant.replace(/[^\w.-]+/g, '_')}-${utcDay(new Date())}.csv`;
    const link = h('a', { href: state.csvUrl, download: name, hidden: true });
    document.body.append(link);
    link.click();
    link.remove();
  } catch (err) {
    report(err);
  } finally {
    button.disabled = false;
  }
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
  setupAnalytics();
  armable($('#rollback'), 'Confirm roll back', rollback);
  window.addEventListener('hashchange', route);
  setInterval(tickDurations, 1000);
  setInterval(refreshAlerts, 60000);
  if (state.token) start();
  else showLogin('');
}

init();
